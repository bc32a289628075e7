package main

import (
	"bytes"
	be "encoding/binary"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"msgo/framework"
	"msgo/library/wire"
)

// handoffVersion is the version of the state a reload passes; a binary
// refuses a version it does not know, and the old process keeps serving.
// Version 4 adopts the connections once before the pause and brings them
// up to date in it.
const handoffVersion = 4

var handoffMagic = []byte("msgo-handoff")

// handoffHead is what the new process needs before any connection, in the
// frame that carries the version: when the pause began (for the pause it
// reports), the last connection id, and the bus cut-over's nonce, the
// manager's counters and the detached sessions.
type handoffHead struct {
	Paused time.Time
	LastID framework.ConnID
	More   handoffMore
}

// handoffStore is the metrics' totals and the memory store's contents
// (nil unless cache.driver is memory). They are taken while the
// connections stream and travel between two batches.
type handoffStore struct {
	Metrics []byte
	Memory  []byte
}

// handedConn is one connection in a batch. A staged one was adopted
// before the pause with its socket and comes again without it, to be
// refreshed.
type handedConn struct {
	ID     framework.ConnID
	Staged bool
	State  framework.ConnState
}

func (h *handoffHead) marshal(version byte) ([]byte, error) {
	more, err := h.More.marshal()
	if err != nil {
		return nil, err
	}
	b := append(bytes.Clone(handoffMagic), version)
	b = be.AppendVarint(b, h.Paused.UnixNano())
	b = be.AppendUvarint(b, uint64(h.LastID))
	return wire.AppendBytes(b, more), nil
}

func (h *handoffStore) marshal() []byte {
	return wire.AppendBytes(wire.AppendBytes(nil, h.Metrics), h.Memory)
}

var errHandoffState = errors.New("malformed handoff state")

// done reports whether r read its whole encoding without an error.
func done(r *wire.Reader) bool { return r.Err() == nil && r.Len() == 0 }

func (h *handoffHead) unmarshal(b []byte) error {
	rest, ok := bytes.CutPrefix(b, handoffMagic)
	if !ok || len(rest) == 0 {
		return errHandoffState
	}
	if v := rest[0]; v != handoffVersion {
		return fmt.Errorf("handoff state version %d, this binary reads %d", v, handoffVersion)
	}
	r := wire.NewReader(rest[1:])
	h.Paused = time.Unix(0, r.Varint())
	h.LastID = framework.ConnID(r.Uvarint())
	more := r.View()
	if !done(r) {
		return errHandoffState
	}
	return h.More.unmarshal(more)
}

func (h *handoffStore) unmarshal(b []byte) error {
	r := wire.NewReader(b)
	h.Metrics = r.View()
	h.Memory = r.View() // nil when the store is not the memory store
	if !done(r) {
		return errHandoffState
	}
	return nil
}

// connBatch is up to fdBatch connections as one frame carries them: the
// sockets of those not staged, and their count then each one's id, whether
// it is staged, and its encoded state.
type connBatch struct {
	buf []byte
	fds []int
	n   int
}

func (b *connBatch) reset() {
	b.buf, b.fds, b.n = b.buf[:0], b.fds[:0], 0
}

func (b *connBatch) add(m framework.Moving, staged bool) (err error) {
	b.buf = be.AppendUvarint(b.buf, uint64(m.ID))
	b.buf = append(b.buf, boolByte(staged))
	// The state's length goes before it: encoded in place, then its
	// length inserted, which is cheaper than a buffer per connection.
	at := len(b.buf)
	if b.buf, err = m.State.AppendBinary(b.buf); err != nil {
		return err
	}
	b.buf = wire.InsertUvarint(b.buf, at, uint64(len(b.buf)-at))
	if !staged {
		b.fds = append(b.fds, m.FD)
	}
	b.n++
	return nil
}

// payload is the batch's frame payload: the count, then the connections.
func (b *connBatch) payload() []byte {
	var count [be.MaxVarintLen64]byte
	n := be.PutUvarint(count[:], uint64(b.n))
	return append(count[:n:n], b.buf...)
}

// decodeConns reads a connBatch's payload.
func decodeConns(p []byte) ([]handedConn, error) {
	r := wire.NewReader(p)
	out := make([]handedConn, r.Count())
	for i := range out {
		out[i].ID = framework.ConnID(r.Uvarint())
		staged := r.Byte()
		out[i].Staged = staged == 1
		st := r.View()
		if staged > 1 {
			r.Fail()
		}
		if r.Err() != nil {
			return nil, errHandoffState
		}
		if err := out[i].State.UnmarshalBinary(st); err != nil {
			return nil, fmt.Errorf("connection %d: %w", out[i].ID, err)
		}
	}
	if !done(r) {
		return nil, errHandoffState
	}
	return out, nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// exportStats is what exportConns saw and how long it took.
type exportStats struct {
	conns, output, input int // connections; bytes queued for clients and read from them, not yet handled
	bytes                int // of the batches' payloads
	encode, send         time.Duration
}

// exportConns streams the connections conns yields in batches of fdBatch
// to send, which must be done with the batch's buffers when it returns;
// those in staged go without their socket.
func exportConns(conns iter.Seq[framework.Moving], staged map[framework.ConnID]bool, send func(payload []byte, fds []int) error) (exportStats, error) {
	var st exportStats
	var b connBatch
	flush := func() error {
		t := time.Now()
		p := b.payload()
		st.bytes += len(p)
		err := send(p, b.fds)
		st.send += time.Since(t)
		b.reset()
		return err
	}
	for m := range conns {
		t := time.Now()
		if err := b.add(m, staged[m.ID]); err != nil {
			return st, err
		}
		st.encode += time.Since(t)
		st.conns++
		st.output += len(m.State.Transport.Output)
		st.input += len(m.State.Transport.Pending) + len(m.State.Transport.Message)
		if b.n == fdBatch {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	if b.n > 0 {
		return st, flush()
	}
	return st, nil
}

// adopter adopts the batches of a reload on every core as they arrive: the
// old process exports faster than one core adopts.
type adopter struct {
	srv  *framework.Server
	jobs chan adoptJob
	wg   sync.WaitGroup
	took atomic.Int64
	bad  atomic.Bool
	mu   sync.Mutex
	errs []error
	ids  map[framework.ConnID]bool // adopted: true if with a socket, false if refreshed
}

type adoptJob struct {
	payload []byte
	fds     []int
}

func newAdopter(srv *framework.Server) *adopter {
	a := &adopter{srv: srv, jobs: make(chan adoptJob, 4), ids: make(map[framework.ConnID]bool)}
	for range runtime.GOMAXPROCS(0) {
		a.wg.Go(func() {
			for j := range a.jobs {
				a.adopt(j)
			}
		})
	}
	return a
}

// add queues a batch; it and payload are the adopter's now.
func (a *adopter) add(payload []byte, fds []int) { a.jobs <- adoptJob{payload, fds} }

func (a *adopter) adopt(j adoptJob) {
	conns, err := decodeConns(j.payload)
	if err != nil {
		closeAll(j.fds)
	} else {
		err = adoptConns(a.srv, conns, j.fds)
		a.took.Add(int64(len(conns)))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range conns {
		a.ids[c.ID] = !c.Staged
	}
	if err != nil {
		a.errs = append(a.errs, err)
		a.bad.Store(true)
	}
}

// failed reports whether a batch failed so far.
func (a *adopter) failed() bool { return a.bad.Load() }

// wait waits for the batches queued and returns how many connections they
// held and what failed.
func (a *adopter) wait() (int, error) {
	close(a.jobs)
	a.wg.Wait()
	return int(a.took.Load()), errors.Join(a.errs...)
}

// discardStale discards the connections of staged (an adopter of the
// batches before the pause, waited for) that a refreshed none of: the old
// process closed them in between. Call it after a.wait.
func (a *adopter) discardStale(staged *adopter) (n int) {
	for id := range staged.ids {
		if _, ok := a.ids[id]; !ok {
			a.srv.Discard(id)
			n++
		}
	}
	return n
}

// adoptConns registers conns on srv, which is frozen, each not staged on
// its socket in fds, and refreshes the staged ones. On an error some
// sockets may be srv's already.
func adoptConns(srv *framework.Server, conns []handedConn, fds []int) error {
	want := 0
	for _, c := range conns {
		want += 1 - int(boolByte(c.Staged))
	}
	if want != len(fds) {
		closeAll(fds)
		return fmt.Errorf("%d sockets for %d connections", len(fds), want)
	}
	var errs []error
	for _, c := range conns {
		var err error
		if c.Staged {
			err = srv.Refresh(c.ID, c.State)
		} else {
			err, fds = srv.Adopt(c.ID, fds[0], c.State), fds[1:]
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
