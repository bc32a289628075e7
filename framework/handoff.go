package framework

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"
	"unique"
)

// A reload hands every connection to a new process (see the console's
// reload): this process pauses, exports each connection with its socket,
// and the new process adopts them under the same ids. These are the
// framework's parts of it.

// StreamCutInfo is the info of the final frame of a stream that was still
// open when a reload's wait for streams ran out.
const StreamCutInfo = "stream cut short by a server reload"

// DrainStreams waits, serving as usual, until no stream is open at one
// moment or ctx ends: a reload calls it before Freeze so that streams in
// flight (a bot's answer) end while clients are still read, and the pause
// only has to wait for streams begun in between.
func (s *Server) DrainStreams(ctx context.Context) {
	for s.openStreams(nil) > 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// Freeze stops accepting, reading and writing (frames sent meanwhile wait in
// their connections' queues), waits for in-flight handlers, then for open
// streams (a streamed answer, a reply decided later) to end. Streams still
// open when ctx ends get a final 503 frame with StreamCutInfo and are
// closed, so every connection leaves with whole answers. It fails only if
// a handler is still running when ctx ends; Thaw undoes it.
func (s *Server) Freeze(ctx context.Context) error {
	if err := s.tr.Freeze(ctx); err != nil {
		return fmt.Errorf("framework: %w", err)
	}
	for s.openStreams(nil) > 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	var cut []*Stream
	s.openStreams(func(st *Stream) { cut = append(cut, st) })
	for _, st := range cut {
		st.Reply(StatusUnavailable, StreamCutInfo, nil)
		st.Close()
	}
	if len(cut) > 0 {
		s.log.Warn("reload: cut streams still open", "streams", len(cut))
	}
	// A producer that sent on a stream a moment ago may have scheduled work.
	wait, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.tr.Freeze(wait); err != nil {
		return fmt.Errorf("framework: %w", err)
	}
	return nil
}

// openStreams counts the open streams, passing each to fn when fn is set.
func (s *Server) openStreams(fn func(*Stream)) int {
	n := 0
	s.tr.Each(func(c *conn) {
		c.Edit(func(ss *session, _ bool) {
			if ss.hooks == nil {
				return
			}
			for st := ss.hooks.streams; st != nil; st = st.next {
				n++
				if fn != nil {
					fn(st)
				}
			}
		})
	})
	return n
}

// Thaw undoes Freeze, or, in the process that adopted connections, starts
// them: each writes what waits and reads what arrived meanwhile.
// Detached sessions a reload held get their expiry back.
func (s *Server) Thaw() {
	s.tr.Thaw()
	s.parked.rearm()
}

// Moving is a connection leaving this process: its id, its socket and its
// state.
type Moving struct {
	ID    ConnID
	FD    int
	State ConnState
}

// Export yields every open connection with its state, for a new process
// to Adopt. Call it while paused; the connections stay this process's until
// it exits, so Thaw still serves them if the new process does not take
// over. Connections whose close began are left to finish here.
func (s *Server) Export() iter.Seq[Moving] {
	return func(yield func(Moving) bool) {
		more := true
		s.tr.Each(func(c *conn) {
			if more && c.Open() {
				more = yield(Moving{ID: c.ID(), FD: c.FD(), State: s.exportConn(c)})
			}
		})
	}
}

// LastConnID returns the highest connection id given so far; Adopt keeps
// new ids above the adopted ones.
func (s *Server) LastConnID() ConnID { return s.tr.LastID() }

// ReserveConnIDs makes every connection id given from now on greater than
// last: the process handing over passes its LastConnID.
func (s *Server) ReserveConnIDs(last ConnID) { s.tr.ReserveIDs(last) }

// Adopt registers a connection exported by the process before this one, on
// its socket fd, under its old id, with its rooms, close keys and close
// controllers. Unlike ImportConn it writes nothing to the store: the node id
// and the connection id are the same, so the store's entries (in Redis, or
// in the memory store's contents handed over with the connections) are
// already true. Call it while paused, before Thaw.
func (s *Server) Adopt(id ConnID, fd int, st ConnState) error {
	ss, err := s.adoptedSession(st)
	c, ierr := s.tr.ImportAs(id, fd, st.Transport, ss)
	if ierr != nil {
		return fmt.Errorf("framework: adopt connection %d: %w", id, ierr)
	}
	s.registerAdopted(c, st)
	if err != nil {
		return fmt.Errorf("framework: adopt connection %d: %w", id, err)
	}
	return nil
}

// adoptedSession is the session a connection adopted with state st starts
// with: its identity, rate limit, rooms, close keys, close controllers and
// resumable session. A close controller this binary does not have is an
// error, the rest of the session stands.
func (s *Server) adoptedSession(st ConnState) (session, error) {
	ss := s.sessionOf(st)
	var errs []error
	if len(st.Groups)+len(st.CloseKeys)+len(st.Controllers) > 0 || st.Session != "" {
		h := &hooks{}
		// The list built in one piece: one interning per connection, not
		// one per entry.
		var b []byte
		for _, g := range st.Groups {
			b = appendHook(b, hookGroup, g.key)
		}
		for _, k := range st.CloseKeys {
			b = appendHook(b, hookCloseKey, k)
		}
		for _, name := range st.Controllers {
			if s.router.closer(name) == nil {
				errs = append(errs, fmt.Errorf("no close controller %q", name))
				continue
			}
			b = appendHook(b, hookController, name)
		}
		if len(b) > 0 {
			h.list = hookList{unique.Make(string(b))}
		}
		if st.Session != "" {
			h.resume = &resumable{id: st.Session}
		}
		ss.hooks = h
	}
	return ss, errors.Join(errs...)
}

// registerAdopted indexes adopted c: its user, its rooms, its session.
func (s *Server) registerAdopted(c *conn, st ConnState) {
	s.app.hub.AddUser(userOf(c), c)
	for _, g := range st.Groups {
		s.app.hub.Join(g.key, c)
	}
	if st.Session != "" {
		s.sessions.put(st.Session, c)
	}
}

// sessionOf is the session a connection with state st starts with here.
func (s *Server) sessionOf(st ConnState) session {
	ss := session{ident: compact(st.Identity)}
	if s.cfg.RateLimit > 0 {
		ss.bucket = bucket{tokens: min(st.RateTokens, float32(s.cfg.RateLimit)), last: max(s.nowMS(), 1)}
	}
	return ss
}
