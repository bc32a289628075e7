//go:build linux

package transport

import (
	"fmt"
	"slices"
)

// ImportDetached registers a detached resumable connection, one whose
// socket was lost in the process before this one (a reload moves it with
// the open ones), under its old id, with its numbered frames (st.Replay)
// and session: frames written to it are kept, ResumeSession gives it a
// socket again, Expire ends it. It has no socket, so st's input and output
// are ignored.
func (s *Server[S]) ImportDetached(id ConnID, st State, session S) (*Conn[S], error) {
	rp := st.Replay
	if rp == nil {
		return nil, fmt.Errorf("transport: import detached connection %d: %w", id, errNotResumable)
	}
	s.ReserveIDs(id)
	if s.conns.get(id) != nil {
		return nil, fmt.Errorf("transport: import: connection %d exists", id)
	}
	c := &Conn[S]{id: id, fd: -1, srv: s, session: session, state: stateDetached, resumable: true}
	c.lastSeen.Store(max(st.LastSeen, 1))
	r := &replay[S]{next: rp.Next, received: rp.Received, budget: rp.Budget, kept: slices.Clone(rp.Kept)}
	for _, f := range r.kept {
		r.bytes += len(f)
	}
	s.replays.Store(c, r)
	s.inflight.Add(1)
	s.conns.add(c)
	return c, nil
}
