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
)

// EventMessage is the push carrying a stored message to its room.
const EventMessage = "live.message"

// Defaults of Options.
const (
	DefaultMaxBatch    = 256
	DefaultTurnTimeout = 5 * time.Second
	// DefaultLeaseTTL outlives any turn (TurnTimeout bounds the wait, the
	// Writer's WriteTimeout the insert) so that a live holder never loses
	// its lease, while a node that died holding it blocks its room for at
	// most this long.
	DefaultLeaseTTL = 15 * time.Second
)

// Hub is what Messages needs of the framework: *framework.App.
type Hub interface {
	Store() cache.Store
	Sync(ctx context.Context) error
	SendToGroup(ctx context.Context, group string, f *framework.Frame) error
}

var _ Hub = (*framework.App)(nil)

// Options tunes Messages; zero values take the defaults.
type Options struct {
	// MaxBatch bounds the messages of one room stored and pushed in one turn.
	MaxBatch int
	// TurnTimeout bounds one turn: waiting for the room's lease, reading the
	// counter, storing. A message whose turn does not complete in time
	// answers 503 and is not stored.
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
	timeout  time.Duration
	leaseTTL time.Duration
	tokenPfx string
	tokens   atomic.Uint64

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
	done chan error
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("live: messages closed")

// NewMessages returns Messages storing through w into store.
func NewMessages(store *model.Store, w *model.Writer, o Options) *Messages {
	return &Messages{
		store:    store,
		writer:   w,
		log:      cmp.Or(o.Log, slog.Default()),
		maxBatch: cmp.Or(o.MaxBatch, DefaultMaxBatch),
		timeout:  cmp.Or(o.TurnTimeout, DefaultTurnTimeout),
		leaseTTL: cmp.Or(o.LeaseTTL, DefaultLeaseTTL),
		tokenPfx: rand.Text() + ":",
		rooms:    make(map[string]*roomQueue),
	}
}

// Send stores m (Room, UserID, UserType, Nickname, Content set) as the
// room's next message, pushes it to the room, and returns it as stored:
// Seq and Time filled in, Nickname clipped. It blocks until then. An error
// means it was neither stored nor pushed; errors.Is(err, db.ErrUnavailable)
// or cache.ErrUnavailable tells an outage (503).
//
// Every Send of one Messages must pass the same hub.
func (s *Messages) Send(hub Hub, m model.Message) (model.Message, error) {
	r := &sendReq{msg: m, done: make(chan error, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return m, ErrClosed
	}
	q := s.rooms[m.Room]
	if q == nil {
		q = &roomQueue{hub: hub, pushed: -1}
		s.rooms[m.Room] = q
		s.wg.Add(1)
		go s.serve(m.Room, q)
	}
	q.pending = append(q.pending, r)
	s.mu.Unlock()
	err := <-r.done
	return r.msg, err
}

// Close waits for the turns in progress, then refuses further Sends.
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
			r.done <- err
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
	last, err := s.lastSeq(ctx, st, room, false)
	for retried := false; ; retried = true {
		if err != nil {
			return err
		}
		if last != q.pushed {
			if err := q.hub.Sync(ctx); err != nil {
				return fmt.Errorf("live: room %q: wait for other nodes' pushes: %w: %w", room, cache.ErrUnavailable, err)
			}
		}
		now := time.Now().UnixMilli()
		for i := range rows {
			rows[i].Seq, rows[i].Time = last+1+int64(i), now
		}
		err = s.writer.WriteAll(ctx, rows...)
		if err == nil {
			break
		}
		if retried || !errors.Is(err, gorm.ErrDuplicatedKey) {
			return err
		}
		s.log.Warn("live: seq counter behind the table; reseeding", "room", room, "counter", last)
		last, err = s.lastSeq(ctx, st, room, true)
	}
	last += int64(len(rows))
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
		s.push(ctx, q.hub, room, &rows[i])
	}
	return nil
}

// push sends one stored message to the room. A failure is logged, not
// returned: the message is stored, and members that missed it fill the gap
// with live.message.history.
func (s *Messages) push(ctx context.Context, hub Hub, room string, m *model.Message) {
	f, err := framework.Push(EventMessage, m)
	if err == nil {
		err = hub.SendToGroup(ctx, room, f)
	}
	if err != nil {
		s.log.Warn("live: push message", "room", room, "seq", m.Seq, "err", err)
	}
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
