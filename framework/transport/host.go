//go:build linux

package transport

import (
	"bytes"
	"fmt"

	"msgo/framework/internal/wsframe"
)

// A session moving in from another node comes in three steps. Host
// registers it, detached and under the id it had there, before its node
// gives it up: frames for it from then on are held as written. Settle gives
// it the session's numbering and frames from the node it left, dropping the
// frames both nodes got, and numbers the rest behind them; it is then a
// detached session like any other, which ResumeSession resumes. Unhost
// calls a move off.

// Host registers a detached resumable connection with id and session,
// holding what is written to it (up to budget bytes) until Settle. It fails
// when id is in use.
func (s *Server[S]) Host(id ConnID, session S, budget int) (*Conn[S], error) {
	c := &Conn[S]{id: id, fd: -1, srv: s, session: session, state: stateDetached, resumable: true}
	c.lastSeen.Store(s.now())
	s.replays.Store(c, &replay[S]{budget: budget, raw: true})
	if !s.conns.addNew(c) {
		s.replays.Delete(c)
		return nil, fmt.Errorf("transport: host: connection %d exists", id)
	}
	s.inflight.Add(1)
	return c, nil
}

// Unhost forgets c, registered by Host, without Closed.
func (s *Server[S]) Unhost(c *Conn[S]) {
	c.mu.Lock()
	c.state, c.closedRan = stateReleased, true
	s.replays.Delete(c)
	c.mu.Unlock()
	s.finish(c)
}

// Settle ends Host's holding: c takes rp's numbering and frames, then the
// frames held since Host that are not among rp's frames (the ones both
// nodes got while the session moved), numbered on, in the order written.
// since is the number the old node was at when the move began: a push
// reaches the two nodes at slightly different times, so a held frame may
// match one numbered a little before it; the search starts there. It reports false when c is gone or the frames pass
// its budget (c then ends as an expiry does).
func (c *Conn[S]) Settle(rp Replay, since uint64) bool {
	c.mu.Lock()
	r := c.replayOf()
	if r == nil || !r.raw || c.state != stateDetached {
		c.mu.Unlock()
		return false
	}
	held := r.held
	r.raw, r.held = false, nil
	r.next, r.received, r.kept, r.bytes = rp.Next, rp.Received, rp.Kept, 0
	for _, f := range rp.Kept {
		r.bytes += len(f)
	}
	first := rp.Next - uint64(len(rp.Kept))
	d := doubles{kept: rp.Kept, first: first, stamp: c.srv.stamp}
	if since > first {
		d.next = int(min(since-first, uint64(len(rp.Kept))))
	}
	ok := r.bytes <= r.budget
	for _, b := range held {
		for f := range wholeFrames(b) {
			if !ok {
				break
			}
			if h, hn, _ := wsframe.ParseHeader(f); h.IsControl() || d.match(h.Op, f[hn:]) {
				continue
			}
			_, ok = c.numberLocked(r, f)
		}
	}
	c.mu.Unlock()
	if !ok {
		c.srv.metrics.overflow()
		c.Expire()
	}
	return ok
}

// wholeFrames yields the whole frames of b, frames back to back.
func wholeFrames(b []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			h, hn, err := wsframe.ParseHeader(b)
			if err != nil || int64(len(b)-hn) < h.Length {
				return
			}
			end := hn + int(h.Length)
			if !yield(b[:end]) {
				return
			}
			b = b[end:]
		}
	}
}

// doubles finds a held frame among the kept frames (the first numbered
// first), each matched once. Pushes reach both nodes in the order they
// were made, so the search starts after the last match.
type doubles struct {
	kept    [][]byte
	first   uint64
	stamp   func(dst, payload []byte, n uint64) []byte
	matched []bool
	next    int
	buf     []byte
}

func (d *doubles) match(op byte, payload []byte) bool {
	n := len(d.kept)
	if n == 0 {
		return false
	}
	if d.matched == nil {
		d.matched = make([]bool, n)
	}
	for k := range n {
		i := (d.next + k) % n
		if d.matched[i] {
			continue
		}
		kf := d.kept[i]
		h, hn, err := wsframe.ParseHeader(kf)
		if err != nil || h.Op != op || len(payload) == 0 || !bytes.HasSuffix(kf[hn:], payload[1:]) {
			continue
		}
		d.buf = d.stamp(d.buf[:0], payload, d.first+uint64(i))
		if bytes.Equal(kf[hn:], d.buf) {
			d.matched[i], d.next = true, (i+1)%n
			return true
		}
	}
	return false
}
