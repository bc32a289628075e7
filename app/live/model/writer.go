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

// mysqlFlushers is how many batches a Writer keeps in flight on MySQL,
// which commits concurrent transactions together; SQLite has one writer, so
// one batch at a time.
const mysqlFlushers = 4

// ErrWriterClosed is returned by Write after Close; nothing was stored.
var ErrWriterClosed = errors.New("live: writer closed")

// Writer stores messages with group commit: a flusher goroutine takes the
// rows that are waiting, inserts them with one multi-row INSERT, and hands
// the shared result to every caller. While one INSERT runs, the next callers
// queue up and go together in the next one, so a busy room costs one
// statement (and one fsync) per batch rather than per message. SQLite gets
// one flusher, MySQL mysqlFlushers.
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

// request is one Write or WriteAll waiting for its batch. Requests are
// pooled; done is buffered so that the batch goroutine never blocks on a
// caller.
type request struct {
	msgs        []Message
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
	flushers := 1
	if store.db.Dialector.Name() == db.DriverMySQL {
		flushers = mysqlFlushers
	}
	var wg sync.WaitGroup
	for range flushers {
		wg.Go(w.run)
	}
	go func() { wg.Wait(); close(w.stopped) }()
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
	return w.WriteAll(ctx, m)
}

// WriteAll stores msgs together: all of them or none, as one Write would
// store one. The rows share a batch with other callers' rows but never fail
// or succeed apart from each other, so a caller that numbered them (a run of
// seqs) knows the run is whole. Once stored, msgs hold what was stored:
// each row's ID filled in and Nickname clipped, as with Store.Insert.
func (w *Writer) WriteAll(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		// select below picks at random among ready cases; do not store a
		// row whose caller has already given up.
		return fmt.Errorf("live: write: %w", db.Classify(err))
	}
	r := requests.Get().(*request)
	r.msgs = msgs
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
	r.msgs = nil
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

// collect adds to batch the requests already queued and, with a maxDelay,
// those that arrive within it, until the batch holds maxBatch rows (one
// WriteAll may take it past that: its rows stay together).
func (w *Writer) collect(batch []*request, timer *time.Timer) []*request {
	rows := len(batch[0].msgs)
queued:
	for rows < w.maxBatch {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
			rows += len(r.msgs)
		default:
			break queued
		}
	}
	if w.maxDelay <= 0 || rows >= w.maxBatch {
		return batch
	}
	timer.Reset(w.maxDelay)
	defer timer.Stop()
	for rows < w.maxBatch {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
			rows += len(r.msgs)
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
		rows = append(rows, r.msgs...)
	}
	defer clear(rows) // drop message text until the next batch

	ctx, cancel := context.WithDeadline(context.Background(), batchDeadline(batch, time.Now()))
	defer cancel()
	err := w.store.Insert(ctx, rows...)
	if err != nil && len(batch) > 1 && !errors.Is(err, db.ErrUnavailable) {
		// A statement error (a duplicate seq, a value too long for MySQL)
		// came from one request or a few; the statement stored nothing, so
		// store the requests one by one and let only the bad ones fail.
		i := 0
		for _, r := range batch {
			n := len(r.msgs)
			err := w.store.Insert(ctx, rows[i:i+n]...)
			if err == nil {
				copy(r.msgs, rows[i:i+n])
			}
			r.done <- err
			i += n
		}
		return
	}
	i := 0
	for _, r := range batch {
		n := len(r.msgs)
		if err == nil {
			copy(r.msgs, rows[i:i+n]) // IDs and clipped nicknames, as stored
		}
		r.done <- err
		i += n
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
