package model

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"msgo/library/db"
)

// Writer defaults.
const (
	// DefaultMaxBatch is used when NewWriter gets maxBatch < 1.
	DefaultMaxBatch = 500
	// WriteTimeout bounds one batch INSERT, whatever its callers' deadlines.
	WriteTimeout = 10 * time.Second
)

// ErrWriterClosed is returned by Write after Close; nothing was stored.
var ErrWriterClosed = errors.New("live: writer closed")

// Writer stores messages with group commit: one goroutine takes the rows
// that are waiting, inserts them with one multi-row INSERT, and hands the
// shared result to every caller. While one INSERT runs, the next callers
// queue up and go together in the next one, so a busy room costs one
// statement (and, on SQLite, one fsync) per batch rather than per message.
//
// Write blocks until its row is committed or has failed; a caller replies to
// its client only after it returns nil. A Writer is safe for concurrent use.
type Writer struct {
	store    *Store
	maxBatch int
	maxDelay time.Duration

	reqs    chan *request // unbuffered: a waiting sender is a queued row
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// request is one Write waiting for its batch. Requests are pooled; done is
// buffered so that the batch goroutine never blocks on a caller.
type request struct {
	msg         Message
	deadline    time.Time
	hasDeadline bool
	done        chan error
}

var requests = sync.Pool{New: func() any { return &request{done: make(chan error, 1)} }}

// NewWriter starts a Writer over store that puts at most maxBatch rows in one
// INSERT (DefaultMaxBatch when maxBatch < 1).
//
// maxDelay is how long the first row of a batch may wait for company. With 0
// (the usual choice) a batch holds whatever queued while the previous INSERT
// ran, so a lone message is written at once and a busy room batches by
// itself; a positive maxDelay trades that much latency for fuller batches.
func NewWriter(store *Store, maxBatch int, maxDelay time.Duration) *Writer {
	if maxBatch < 1 {
		maxBatch = DefaultMaxBatch
	}
	w := &Writer{
		store:    store,
		maxBatch: maxBatch,
		maxDelay: maxDelay,
		reqs:     make(chan *request),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	go w.run()
	return w
}

// Write stores m and returns once it is committed (nil) or has failed.
//
// If ctx ends while the row is still queued, Write returns at once and the
// row is not stored (the error is classified: a deadline counts as
// db.ErrUnavailable). Once the row is in a batch, Write waits for that
// batch's result, which is bounded by the latest deadline in the batch and by
// WriteTimeout; so a nil error always means stored, and a non-nil one means
// not stored.
func (w *Writer) Write(ctx context.Context, m Message) error {
	r := requests.Get().(*request)
	r.msg = m
	r.deadline, r.hasDeadline = ctx.Deadline()
	select {
	case w.reqs <- r:
	case <-w.quit:
		w.release(r)
		return ErrWriterClosed
	case <-ctx.Done():
		w.release(r)
		return fmt.Errorf("live: write: %w", db.Classify(ctx.Err()))
	}
	err := <-r.done
	w.release(r)
	return err
}

func (w *Writer) release(r *request) {
	r.msg = Message{}
	requests.Put(r)
}

// Close stops taking rows, waits for the batch in flight to be committed,
// and returns. Writes still queued, and later ones, fail with
// ErrWriterClosed. Close may be called more than once.
func (w *Writer) Close() {
	w.once.Do(func() { close(w.quit) })
	<-w.stopped
}

func (w *Writer) run() {
	defer close(w.stopped)
	batch := make([]*request, 0, w.maxBatch)
	rows := make([]Message, 0, w.maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case r := <-w.reqs:
			batch = w.collect(append(batch, r), timer)
			w.flush(batch, rows)
			clear(batch) // drop references to pooled requests
			batch = batch[:0]
		case <-w.quit:
			return
		}
	}
}

// collect adds to batch the rows already queued and, with a maxDelay, those
// that arrive within it, up to maxBatch.
func (w *Writer) collect(batch []*request, timer *time.Timer) []*request {
queued:
	for len(batch) < w.maxBatch {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
		default:
			break queued
		}
	}
	if w.maxDelay <= 0 || len(batch) >= w.maxBatch {
		return batch
	}
	timer.Reset(w.maxDelay)
	defer timer.Stop()
	for len(batch) < w.maxBatch {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
		case <-timer.C:
			return batch
		case <-w.quit:
			return batch
		}
	}
	return batch
}

// flush inserts the batch and answers every request in it.
func (w *Writer) flush(batch []*request, rows []Message) {
	rows = rows[:0]
	for _, r := range batch {
		rows = append(rows, r.msg)
	}
	defer clear(rows) // drop message text until the next batch

	ctx, cancel := context.WithDeadline(context.Background(), batchDeadline(batch, time.Now()))
	defer cancel()
	err := w.store.Insert(ctx, rows...)
	if err == nil || len(batch) == 1 || errors.Is(err, db.ErrUnavailable) {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	// A statement error (a duplicate seq, a value too long for MySQL) came
	// from one row or a few; the statement stored nothing, so store the rows
	// one by one and let only the bad ones fail.
	for i, r := range batch {
		r.done <- w.store.Insert(ctx, rows[i])
	}
}

// batchDeadline is the latest of the batch's callers' deadlines, capped at
// WriteTimeout from now; a caller without a deadline counts as the cap.
func batchDeadline(batch []*request, now time.Time) time.Time {
	limit := now.Add(WriteTimeout)
	var latest time.Time
	for _, r := range batch {
		if !r.hasDeadline {
			return limit
		}
		if r.deadline.After(latest) {
			latest = r.deadline
		}
	}
	if latest.After(limit) {
		return limit
	}
	return latest
}
