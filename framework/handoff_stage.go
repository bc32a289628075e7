package framework

import (
	"fmt"
	"iter"
)

// A reload adopts connections in two passes so that its pause does not
// grow with the number of connections: before the pause the new process
// adopts every connection as it is then (Stage: the costly part, a poller
// registration and the indexes, while this process still serves), and in
// the pause it gets every connection again, those staged without their
// socket, to bring up to date (Refresh), and discards those closed in
// between (Discard). See docs/reload.md.

// Stage yields every open connection with a duplicate of its socket and
// its state but the transport's part, for a new process to Adopt while
// this one still serves. The caller closes each FD once passed on. A
// connection that closes meanwhile may yield a socket that is no longer
// its own: the new process discards it, as it is not exported in the
// pause.
func (s *Server) Stage() iter.Seq[Moving] {
	return func(yield func(Moving) bool) {
		more := true
		s.tr.Each(func(c *conn) {
			if !more || !c.Open() {
				return
			}
			fd, err := c.DupFD()
			if err != nil {
				return // closed meanwhile: not exported in the pause either
			}
			more = yield(Moving{ID: c.ID(), FD: fd, State: s.exportSession(c)})
		})
	}
}

// Refresh brings connection id, adopted before the pause, up to date with
// st, exported in the pause: its transport state, its rate limit, and its
// identity, rooms, close keys, close controllers and session if they
// changed meanwhile. Call it while paused, before Thaw.
func (s *Server) Refresh(id ConnID, st ConnState) error {
	c := s.tr.Conn(id)
	if c == nil {
		return fmt.Errorf("framework: refresh connection %d: not adopted", id)
	}
	next, err := s.adoptedSession(st)
	var was session
	same := false
	c.Edit(func(ss *session, _ bool) {
		was = *ss
		same = ss.ident == next.ident && sameHooks(ss.hooks, next.hooks)
		if same {
			ss.bucket = next.bucket
		} else {
			*ss = next
		}
	})
	if !same {
		s.unregisterAdopted(c, was)
		s.registerAdopted(c, st)
	}
	c.Restore(st.Transport)
	if err != nil {
		return fmt.Errorf("framework: refresh connection %d: %w", id, err)
	}
	return nil
}

// Discard forgets connection id, adopted before the pause and closed by
// the old process since: nothing runs (the old process ran its close), the
// store is not touched, and this process's copy of its socket is closed
// without a shutdown.
func (s *Server) Discard(id ConnID) {
	c := s.tr.Conn(id)
	if c == nil {
		return
	}
	var was session
	c.Edit(func(ss *session, _ bool) { was = *ss; ss.hooks = nil })
	s.unregisterAdopted(c, was)
	c.Discard()
}

// sameHooks reports whether a and b hold the same rooms, close keys, close
// controllers and session.
func sameHooks(a, b *hooks) bool {
	var al, bl hookList
	var as, bs string
	if a != nil {
		al = a.list
		if a.resume != nil {
			as = a.resume.id
		}
	}
	if b != nil {
		bl = b.list
		if b.resume != nil {
			bs = b.resume.id
		}
	}
	return al == bl && as == bs
}

// unregisterAdopted undoes registerAdopted for c, which had session was.
func (s *Server) unregisterAdopted(c *conn, was session) {
	s.app.hub.RemoveUser(was.ident.key, c)
	h := was.hooks
	if h == nil {
		return
	}
	for g := range h.list.names(hookGroup) {
		s.app.hub.Leave(g, c)
	}
	if h.resume != nil && s.sessions.get(h.resume.id) == c {
		s.sessions.forget(h.resume.id)
	}
}
