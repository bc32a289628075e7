//go:build linux

package transport

import (
	"context"
	"fmt"
	"time"
)

// A reload hands every connection to a new process. Before their state is
// exported the server pauses: it accepts nothing, reads nothing and writes
// nothing, so what Export returns is the whole truth and stays so. Frames
// sent meanwhile wait in the connections' queues and leave with them. If
// the new process does not take over, Thaw undoes the freeze and nothing
// was lost.

// Freeze stops accepting, waits for handshakes in progress (up to the
// handshake timeout), then stops reading and writing every connection, and
// returns once no worker is running a connection and none waits on an
// answer (Conn.Pause), or ctx ends. Messages
// already read are handled before it returns; a message whose handler is
// still running when ctx ends keeps running and makes the caller's export
// incomplete, hence the error.
func (s *Server[S]) Freeze(ctx context.Context) error {
	s.shared.Store(true) // the sockets may be copied to the next process: see closeSocket
	s.pauseAccepting()
	deadline := time.Now().Add(s.cfg.HandshakeTimeout + time.Second)
	for s.handshaking() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	s.paused.Store(true)
	// A connection waiting on an answer (Conn.Pause) holds a continuation
	// no other process could run: it is in flight too.
	for len(s.runq) > 0 || s.busy.Load() > 0 || s.waiting.Load() > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("transport: freeze: handlers still running: %w", err)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

// Frozen reports whether the server is frozen (see Freeze).
func (s *Server[S]) Frozen() bool { return s.paused.Load() }

// Thaw undoes Freeze, or starts an imported set of connections: every
// connection writes what waits and reads what arrived meanwhile, and
// accepting goes on. The writes and reads go to the workers, on every
// core. Only the connections that had input while frozen are read: the
// poller is edge-triggered and registering a socket raises its readiness,
// so input that came at any time since a connection was registered here
// left an event, held until now (see holdRead).
func (s *Server[S]) Thaw() {
	s.paused.Store(false)
	// The work is collected first and scheduled after, reads before
	// writes: once scheduled it runs on every core, and this loop would
	// wait its turn behind it.
	type thawed struct {
		c    *Conn[S]
		work uint32
	}
	var reads, writes []thawed
	s.conns.each(func(c *Conn[S]) {
		switch w := c.thawWork(); {
		case w == flagWrite:
			writes = append(writes, thawed{c, w})
		case w != 0:
			reads = append(reads, thawed{c, w})
		}
	})
	for _, t := range append(reads, writes...) {
		s.schedule(t.c, t.work)
	}
	s.resumeAccepting()
}

// pauseAccepting takes the listeners out of the poller without closing
// them; connections arriving meanwhile wait in the kernel's backlog.
func (s *Server[S]) pauseAccepting() {
	a := &s.acceptor
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range a.listeners {
		s.poller.del(l.fd)
	}
}

func (s *Server[S]) resumeAccepting() {
	a := &s.acceptor
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range a.listeners {
		if err := s.poller.add(l.fd, listenEvents, l); err != nil {
			s.log.Error("resume accepting", "err", err)
		}
	}
}

// LastID returns the highest connection id given so far; a process taking
// connections over gives new ones ids above it (see ImportAs).
func (s *Server[S]) LastID() ConnID { return ConnID(s.nextID.Load()) }

// ImportAs is Import keeping the connection's id from the process it comes
// from, so that whatever is stored under it (close keys, presence) stays
// true. Ids given afterwards are above it. fd must be non-blocking already,
// as a socket a Server served is: the flag belongs to the socket's open
// file, which a passed or inherited descriptor shares, so a reload spares
// two fcntl calls per connection.
func (s *Server[S]) ImportAs(id ConnID, fd int, st State, session S) (*Conn[S], error) {
	s.ReserveIDs(id)
	if s.conns.get(id) != nil {
		return nil, fmt.Errorf("transport: import: connection %d exists", id)
	}
	return s.register(id, fd, st, session)
}

// FD returns c's socket, for handing it to another process while paused.
func (c *Conn[S]) FD() int { return int(c.fd) }

// Open reports whether c is open: its close has not begun.
func (c *Conn[S]) Open() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateOpen
}

// ReserveIDs makes every id given from now on greater than last.
func (s *Server[S]) ReserveIDs(last ConnID) {
	for {
		cur := s.nextID.Load()
		if uint64(last) <= cur || s.nextID.CompareAndSwap(cur, uint64(last)) {
			return
		}
	}
}
