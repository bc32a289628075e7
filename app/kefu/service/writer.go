package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"msgo/app/kefu/model"
	"msgo/library/db"
)

// Writer defaults.
const (
	DefaultWriters  = 4               // transactions in flight at once
	DefaultMaxBatch = 256             // messages per transaction
	DefaultTimeout  = 5 * time.Second // bound on one transaction
)

// ErrClosed is returned for a message sent after the writer was closed.
var ErrClosed = errors.New("kefu: message writer closed")

// writer stores messages with group commit: the messages that arrive while
// a transaction runs are stored together by the next one, so a busy chat
// pays one commit (a disk flush, the expensive part) per batch rather than
// per message, and an idle one waits for nobody. Each message still waits
// for its own transaction, so "stored before the reply" holds.
type writer struct {
	store   *model.Store
	queue   chan *pending
	max     int
	timeout time.Duration

	mu     sync.RWMutex // held for reading while queueing; Close takes it to close queue
	closed bool
	wg     sync.WaitGroup
}

// pending is a message waiting for its transaction.
type pending struct {
	ctx  context.Context
	m    *model.Message
	done chan error
}

func newWriter(store *model.Store, writers, maxBatch int, timeout time.Duration) *writer {
	w := &writer{store: store, queue: make(chan *pending, maxBatch*writers), max: maxBatch, timeout: timeout}
	for range writers {
		w.wg.Go(w.run)
	}
	return w
}

// write stores m and returns once it is committed, or with the reason it
// is not stored. A message whose ctx ends while it waits for its turn is
// not stored; once its transaction started, it waits for the outcome
// (bounded by the writer's timeout), so the answer is never "unknown".
func (w *writer) write(ctx context.Context, m *model.Message) error {
	p := &pending{ctx: ctx, m: m, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- p:
	case <-ctx.Done():
		w.mu.RUnlock()
		return notStored(ctx.Err())
	}
	w.mu.RUnlock()
	return <-p.done
}

func (w *writer) run() {
	batch := make([]*pending, 0, w.max)
	for p := range w.queue {
		batch = append(batch[:0], p)
	more:
		for len(batch) < w.max {
			select {
			case p, ok := <-w.queue:
				if !ok {
					break more
				}
				batch = append(batch, p)
			default:
				break more
			}
		}
		w.flush(batch)
		clear(batch)
	}
}

// flush stores one batch and tells every message its outcome. A batch
// that fails for a reason other than the database being out of reach is
// retried one message at a time, so one message the database refuses does
// not fail the others.
func (w *writer) flush(batch []*pending) {
	live := make([]*pending, 0, len(batch))
	ms := make([]*model.Message, 0, len(batch))
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- notStored(err) // gave up while queued: not stored
			continue
		}
		live = append(live, p)
		ms = append(ms, p.m)
	}
	if len(ms) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	err := w.store.InsertAll(ctx, ms)
	if err != nil && len(ms) > 1 && !errors.Is(err, db.ErrUnavailable) {
		for _, p := range live {
			p.done <- w.store.Insert(ctx, p.m)
		}
		return
	}
	for _, p := range live {
		p.done <- err
	}
}

// close stores what is queued and stops the writers; a write after it
// returns ErrClosed.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	w.wg.Wait()
}

// notStored is the error of a message whose request gave up before its
// transaction: a deadline counts as the database being unavailable (503).
func notStored(err error) error {
	return fmt.Errorf("kefu: message not stored: %w", db.Classify(err))
}
