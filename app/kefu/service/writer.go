package service

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"msgo/app/kefu/model"
	"msgo/framework"
	"msgo/library/db"
)

// Writer defaults.
const (
	DefaultWriters  = 4               // transactions in flight at once
	DefaultMaxBatch = 256             // messages per transaction
	DefaultTimeout  = 5 * time.Second // bound on one transaction
)

// ErrClosed is returned for a message sent after the Chat was closed.
var ErrClosed = errors.New("kefu: message writer closed")

// writer stores messages with group commit: the messages that arrive while
// a transaction runs are stored together by the next one, so a busy chat
// pays one commit (a disk flush, the expensive part) per batch rather than
// per message, and an idle one waits for nobody. Each message is answered
// only once its own transaction committed, so "stored before the reply"
// holds.
//
// Messages are sharded by openid over the writers, each a goroutine that
// runs one transaction at a time: a conversation's messages are stored,
// and so numbered, in the order they were queued, while different
// conversations commit in parallel.
type writer struct {
	store   *model.Store
	deliver func(ctx context.Context, stored []*pending) // pushes a committed batch
	shards  []chan *pending
	seed    maphash.Seed
	max     int
	timeout time.Duration

	mu     sync.RWMutex // held for reading while queueing; close takes it to close the shards
	closed bool
	wg     sync.WaitGroup
}

// pending is a message waiting for its transaction, and the App to push it
// with; done is called once with the outcome.
type pending struct {
	ctx  context.Context
	app  *framework.App
	m    *model.Message
	done func(error)
}

func newWriter(store *model.Store, deliver func(context.Context, []*pending), writers, maxBatch int, timeout time.Duration) *writer {
	w := &writer{store: store, deliver: deliver, seed: maphash.MakeSeed(), max: maxBatch, timeout: timeout}
	for range writers {
		q := make(chan *pending, maxBatch)
		w.shards = append(w.shards, q)
		w.wg.Go(func() { w.run(q) })
	}
	return w
}

// submit queues p for its shard's next transaction. It blocks while the
// shard's queue is full (back-pressure on the senders) unless p.ctx ends.
// p.done is called exactly once: on a writer's goroutine after the
// transaction, or on the caller's when p is not queued.
func (w *writer) submit(p *pending) {
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		p.done(ErrClosed)
		return
	}
	q := w.shards[maphash.String(w.seed, p.m.OpenID)%uint64(len(w.shards))]
	select {
	case q <- p:
		w.mu.RUnlock()
	case <-p.ctx.Done():
		w.mu.RUnlock()
		p.done(notStored(p.ctx.Err()))
	}
}

func (w *writer) run(q chan *pending) {
	batch := make([]*pending, 0, w.max)
	for p := range q {
		batch = append(batch[:0], p)
	more:
		for len(batch) < w.max {
			select {
			case p, ok := <-q:
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

// flush stores one batch, pushes what was stored and then tells every
// message its outcome, in queue order. A message whose request gave up
// while it was queued is not stored. A batch that fails for a reason other
// than the database being out of reach is retried one message at a time,
// so one message the database refuses does not fail the others.
func (w *writer) flush(batch []*pending) {
	live := make([]*pending, 0, len(batch))
	ms := make([]*model.Message, 0, len(batch))
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done(notStored(err))
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
	errs := make([]error, len(live))
	err := w.store.InsertAll(ctx, ms)
	switch {
	case err == nil:
	case len(ms) > 1 && !errors.Is(err, db.ErrUnavailable):
		for i, p := range live {
			errs[i] = w.store.Insert(ctx, p.m)
		}
	default:
		for i := range errs {
			errs[i] = err
		}
	}
	stored := make([]*pending, 0, len(live))
	for i, p := range live {
		if errs[i] == nil {
			stored = append(stored, p)
		}
	}
	if len(stored) > 0 {
		// Delivered even when their senders have gone meanwhile: they
		// are stored.
		pctx, pcancel := context.WithTimeout(context.Background(), w.timeout)
		w.deliver(pctx, stored)
		pcancel()
	}
	for i, p := range live {
		p.done(errs[i])
	}
}

// close stores what is queued and stops the writers; a message submitted
// after it gets ErrClosed.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		for _, q := range w.shards {
			close(q)
		}
	}
	w.mu.Unlock()
	w.wg.Wait()
}

// notStored is the error of a message whose request gave up before its
// transaction: a deadline counts as the database being unavailable (503).
func notStored(err error) error {
	return fmt.Errorf("kefu: message not stored: %w", db.Classify(err))
}
