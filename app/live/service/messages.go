package service

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"msgo/app/live/model"
	"msgo/framework"
	"msgo/library/cache"
	"msgo/library/db"
)

// EventMessage is the push carrying a stored message to its room.
const EventMessage = "live.message"

// Defaults of Options.
const (
	DefaultMaxBatch    = 256
	DefaultMaxPending  = 10000
	DefaultTurnTimeout = 5 * time.Second
	// DefaultLeaseTTL outlives any turn (TurnTimeout bounds the wait, the
	// Writer's WriteTimeout of 10 s the insert, TurnTimeout again the
	// push) so that a live holder never loses its lease, while a node that
	// died holding it blocks its room for at most this long.
	DefaultLeaseTTL = 30 * time.Second
)

// Hub is what Messages needs of the framework: *framework.App.
type Hub interface {
	Store() cache.Store
	Sync(ctx context.Context) error
	SendToGroup(ctx context.Context, group framework.Group, f *framework.Frame) error
}

var _ Hub = (*framework.App)(nil)

// Options tunes Messages; zero values take the defaults.
type Options struct {
	// MaxBatch bounds the messages of one room stored and pushed in one turn.
	MaxBatch int
	// MaxPending bounds the messages of one room waiting on one node for
	// their turn; past it a send answers 503 at once.
	MaxPending int
	// TurnTimeout bounds a turn's wait for the room's lease, the counter and
	// other nodes' pushes, and then its push; the INSERT is bounded by the
	// Writer's WriteTimeout. A message whose turn runs out of time before
	// it is stored answers 503 and is not stored.
	TurnTimeout time.Duration
	// LeaseTTL is how long a turn lease lives if its holder never gives it back.
	LeaseTTL time.Duration
	Log      *slog.Logger
}

// Messages stores and pushes live messages: seq per room, strictly
// increasing, gap-free and cluster-wide, each message stored before it is
// pushed, and pushes reaching every member in seq order.
//
// Each room with messages waiting has one goroutine on each node that
// serves it, in turns. A turn takes the room's lease in the store, so one
// node at a time numbers, stores and pushes the room's messages:
//
//  1. read the room's counter, the last stored seq (seeded from the table's
//     MAX(seq) with SetNX when the store has lost it);
//  2. if another node pushed since this node's last turn, App.Sync: their
//     pushes reach this node's connections before ours;
//  3. number the waiting messages last+1..last+n and store them with one
//     Writer.WriteAll, all or none;
//  4. only then advance the counter, push the messages in seq order, give
//     the lease back, and answer the senders.
//
// The counter moves only after a store, so a failed store leaves no gap:
// the next turn numbers from the same place. A counter left behind the
// table (its Set failed, or Redis came back from an old snapshot) shows up
// as a duplicate (room, seq) on the next insert; the turn then reseeds it
// from the table and retries once.
//
// Messages is safe for concurrent use.
type Messages struct {
	store    *model.Store
	writer   *model.Writer
	log      *slog.Logger
	maxBatch int
	// maxPending bounds one room's messages waiting on this node; past it
	// Submit answers ErrRoomBusy at once rather than queue without end.
	maxPending int
	timeout    time.Duration
	leaseTTL   time.Duration
	tokenPfx   string
	tokens     atomic.Uint64

	mu     sync.Mutex
	rooms  map[string]*roomQueue
	closed bool
	wg     sync.WaitGroup
}

// roomQueue is one room's messages waiting on this node. It lives while
// its goroutine does.
type roomQueue struct {
	hub     Hub
	pending []*sendReq // under Messages.mu
	pushed  int64      // the last seq this node pushed; only the room's goroutine uses it
}

type sendReq struct {
	msg  model.Message
	done func(model.Message, error)
}

// ErrClosed is what Submit reports after Close.
var ErrClosed = errors.New("live: messages closed")

// NewMessages returns Messages storing through w into store.
func NewMessages(store *model.Store, w *model.Writer, o Options) *Messages {
	return &Messages{
		store:      store,
		writer:     w,
		log:        cmp.Or(o.Log, slog.Default()),
		maxBatch:   cmp.Or(o.MaxBatch, DefaultMaxBatch),
		maxPending: cmp.Or(o.MaxPending, DefaultMaxPending),
		timeout:    cmp.Or(o.TurnTimeout, DefaultTurnTimeout),
		leaseTTL:   cmp.Or(o.LeaseTTL, DefaultLeaseTTL),
		tokenPfx:   rand.Text() + ":",
		rooms:      make(map[string]*roomQueue),
	}
}

// Submit queues m (Room, UserID, UserType, Nickname, Content set) as its
// room's next message and returns at once. done is called once, from the
// room's goroutine, after the message was stored and pushed to the room,
// with the message as stored (Seq and Time filled in, Nickname clipped); or
// with an error if it was neither stored nor pushed (errors.Is(err,
// db.ErrUnavailable) or cache.ErrUnavailable: an outage, 503). done must
// not block: the room's next turn waits for it.
//
// Every Submit of one Messages must pass the same hub.
func (s *Messages) Submit(hub Hub, m model.Message, done func(model.Message, error)) {
	s.mu.Lock()
	q := s.rooms[m.Room]
	switch {
	case s.closed:
		s.mu.Unlock()
		done(m, ErrClosed)
		return
	case q != nil && len(q.pending) >= s.maxPending:
		s.mu.Unlock()
		done(m, fmt.Errorf("%w: %d messages waiting on this node", ErrRoomBusy, len(q.pending)))
		return
	case q == nil:
		q = &roomQueue{hub: hub, pushed: -1}
		s.rooms[m.Room] = q
		s.wg.Add(1)
		go s.serve(m.Room, q)
	}
	q.pending = append(q.pending, &sendReq{msg: m, done: done})
	s.mu.Unlock()
}

// Close refuses further messages and waits for those already submitted to
// be stored and pushed (or fail).
func (s *Messages) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
}

// serve runs turns for room until nothing is waiting.
func (s *Messages) serve(room string, q *roomQueue) {
	defer s.wg.Done()
	batch := make([]*sendReq, 0, s.maxBatch)
	for {
		s.mu.Lock()
		n := min(len(q.pending), s.maxBatch)
		if n == 0 {
			delete(s.rooms, room)
			s.mu.Unlock()
			return
		}
		batch = append(batch[:0], q.pending[:n]...)
		q.pending = q.pending[n:]
		if len(q.pending) == 0 {
			q.pending = nil // let the backing array go
		}
		s.mu.Unlock()

		err := s.turn(room, q, batch)
		for _, r := range batch {
			r.done(r.msg, err)
		}
		clear(batch)
	}
}

// turn numbers, stores and pushes batch, holding the room's lease.
func (s *Messages) turn(room string, q *roomQueue, batch []*sendReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	st := q.hub.Store()
	l, err := acquire(ctx, st, TurnKey(room), s.tokenPfx+strconv.FormatUint(s.tokens.Add(1), 10), s.leaseTTL)
	if err != nil {
		return err
	}
	defer func() {
		if err := l.release(); err != nil {
			s.log.Warn("live: give back room turn", "room", room, "err", err)
		}
	}()

	rows := make([]model.Message, len(batch))
	for i, r := range batch {
		rows[i] = r.msg
	}
	last, err := s.number(ctx, st, room, q, rows)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, db.ErrUnavailable) && !errors.Is(err, cache.ErrUnavailable) {
			// The turn ran out of time, and the driver said so in its own
			// words (SQLite: "interrupted"): still an outage, not a bug.
			err = fmt.Errorf("%w: room %q: %w", ErrRoomBusy, room, err)
		}
		return err
	}

	// Stored: what remains must happen even if storing used up the turn's
	// time, so it gets time of its own.
	ctx, cancel = context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := st.Set(ctx, SeqKey(room), strconv.FormatInt(last, 10), 0); err != nil {
		// Stored all the same: the next turn meets a duplicate and reseeds.
		s.log.Warn("live: advance seq counter", "room", room, "seq", last, "err", err)
	}
	q.pushed = last
	for i := range rows {
		batch[i].msg = rows[i]
	}
	if err := push(ctx, q.hub, room, rows); err != nil {
		// Stored all the same; members that missed the run fill the gap
		// with live.message.history.
		s.log.Warn("live: push messages", "room", room, "seq", last, "err", err)
	}
	return nil
}

// number numbers rows after the room's last stored seq and stores them, all
// or none, and returns the new last seq. Before numbering it waits for the
// pushes of other nodes' turns to reach this node's connections.
func (s *Messages) number(ctx context.Context, st cache.Store, room string, q *roomQueue, rows []model.Message) (int64, error) {
	last, err := s.lastSeq(ctx, st, room, false)
	for retried := false; ; retried = true {
		if err != nil {
			return 0, err
		}
		if last != q.pushed {
			if err := q.hub.Sync(ctx); err != nil {
				return 0, fmt.Errorf("live: room %q: wait for other nodes' pushes: %w: %w", room, cache.ErrUnavailable, err)
			}
		}
		now := time.Now().UnixMilli()
		for i := range rows {
			rows[i].Seq, rows[i].Time = last+1+int64(i), now
		}
		// Not under the turn's deadline: a deadline that fires while the
		// INSERT runs can report a failure for rows that were committed
		// (SQLite's INSERT ... RETURNING), and a 503 must mean "not
		// stored". The Writer bounds the batch by its WriteTimeout.
		err = s.writer.WriteAll(context.WithoutCancel(ctx), rows...)
		if err == nil {
			return last + int64(len(rows)), nil
		}
		if retried || !errors.Is(err, gorm.ErrDuplicatedKey) {
			return 0, err
		}
		s.log.Warn("live: seq counter behind the table; reseeding", "room", room, "counter", last)
		last, err = s.lastSeq(ctx, st, room, true)
	}
}

// push sends a run of stored messages to the room, in seq order, as one
// write per member connection (framework.Concat): a busy room's members
// read a turn's messages with one read.
func push(ctx context.Context, hub Hub, room string, rows []model.Message) error {
	fs := make([]*framework.Frame, len(rows))
	for i := range rows {
		f, err := framework.Push(EventMessage, &rows[i])
		if err != nil {
			return err
		}
		fs[i] = f
	}
	return hub.SendToGroup(ctx, framework.Room(room), framework.Concat(fs...))
}

// lastSeq returns the room's last stored seq from its counter. A missing
// counter (a new room, or a store that lost its keys) is seeded from the
// table with SetNX; reseed seeds it from the table whatever it holds.
func (s *Messages) lastSeq(ctx context.Context, st cache.Store, room string, reseed bool) (int64, error) {
	key := SeqKey(room)
	if !reseed {
		v, ok, err := st.Get(ctx, key)
		if err != nil {
			return 0, fmt.Errorf("live: read seq counter of room %q: %w", room, err)
		}
		if ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("live: seq counter of room %q holds %q: %w", room, v, err)
			}
			return n, nil
		}
	}
	max, err := s.store.MaxSeq(ctx, room)
	if err != nil {
		return 0, err
	}
	val := strconv.FormatInt(max, 10)
	if reseed {
		err = st.Set(ctx, key, val, 0)
	} else {
		_, err = st.SetNX(ctx, key, val, 0)
	}
	if err != nil {
		return 0, fmt.Errorf("live: seed seq counter of room %q: %w", room, err)
	}
	return max, nil
}
