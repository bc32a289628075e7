//go:build linux

package transport

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// State is a connection's transport state as a plain value: what it was
// reading and what it still had to write. With the layer above's session it
// is everything a process holds of a connection besides the socket, so a
// connection can leave one process (Export) and enter another (Import) with
// its socket: a reload hands connections over this way.
type State struct {
	LastSeen int64  // unix seconds of the last input: the idle deadline counts from it
	Pending  []byte // an incomplete frame, as read
	// A fragmented message being reassembled: its opcode and bytes so far.
	MessageOp byte
	Message   []byte
	Output    []byte  // frames queued for the socket, back to back
	Replay    *Replay // a resumable connection's numbering and kept frames; nil otherwise
}

// Export returns c's transport state, copied. Call it while c's input is
// not being read (from c's own Message or Closed, or once reading stopped),
// since the partial input belongs to c's worker.
func (c *Conn[S]) Export() State {
	st := State{LastSeen: c.lastSeen.Load()}
	if in := c.in; in != nil {
		st.Pending = bytes.Clone(in.pend)
		if in.frag != nil {
			st.MessageOp, st.Message = in.frag.op, bytes.Clone(in.frag.buf)
		}
	}
	c.mu.Lock()
	if o := c.out; o != nil {
		st.Output = bytes.Join(o.wq, nil)
	}
	if r := c.replayOf(); r != nil {
		st.Replay = &Replay{Next: r.next, Received: r.received, Budget: r.budget, Kept: slices.Clone(r.kept)}
	}
	c.mu.Unlock()
	return st
}

// Import registers an open connection on fd, a socket whose WebSocket
// handshake is already done (by this process or one before it), with the
// given state and session; once it succeeded, fd is the Server's.
// Options.Open does not run: the caller restores what its session stands
// for. Queued output is written and pending input is read at once.
//
// An fd that epoll refuses (a regular file such as /dev/null, which tests
// and benchmarks use as a sink) is only written to, never read.
func (s *Server[S]) Import(fd int, st State, session S) (*Conn[S], error) {
	return s.importConn(ConnID(s.nextID.Add(1)), fd, st, session)
}

func (s *Server[S]) importConn(id ConnID, fd int, st State, session S) (*Conn[S], error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("transport: import: %w", err)
	}
	return s.register(id, fd, st, session)
}

// register is importConn on a socket already non-blocking.
func (s *Server[S]) register(id ConnID, fd int, st State, session S) (*Conn[S], error) {
	s.shared.Store(true) // the process fd came from may still hold it: see closeSocket
	c := &Conn[S]{id: id, fd: int32(fd), srv: s, session: session}
	c.restore(st)
	s.inflight.Add(1)
	s.conns.add(c)
	if err := s.poller.add(fd, connEvents, c); err != nil && err != unix.EPERM {
		s.conns.remove(c)
		s.inflight.Done()
		return nil, fmt.Errorf("transport: import: poll: %w", err)
	}
	// Registering raises the socket's current readiness; pending input and
	// a file that is not polled need a nudge.
	if len(st.Pending) > 0 {
		s.schedule(c, flagRead)
	}
	if len(st.Output) > 0 {
		c.flush()
	}
	return c, nil
}

// Restore replaces the transport state of c, a connection imported while
// its server is frozen, with st: a reload adopts connections before its
// pause and brings each up to date once the old process has paused. Thaw
// writes and reads what st holds.
func (c *Conn[S]) Restore(st State) { c.restore(st) }

// restore sets c's state to st; nothing reads or writes c meanwhile (it is
// new, or its server frozen).
func (c *Conn[S]) restore(st State) {
	s := c.srv
	last := st.LastSeen
	if last == 0 {
		last = s.now()
	}
	c.lastSeen.Store(last)
	c.in = nil
	if len(st.Pending) > 0 {
		c.input().pend = bytes.Clone(st.Pending)
	}
	if len(st.Message) > 0 || st.MessageOp != 0 {
		c.input().frag = &fragment{op: st.MessageOp, buf: bytes.Clone(st.Message)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.in != nil && s.paused.Load() {
		c.held |= uint8(flagRead) // input to handle once thawed
	}
	c.out = nil
	if len(st.Output) > 0 {
		o := c.outbox()
		o.wq = append(o.wq, bytes.Clone(st.Output))
		o.bytes = len(st.Output)
		o.headPartial = true // it may begin with the rest of a frame
	}
	if c.resumable {
		s.replays.Delete(c)
		c.resumable = false
	}
	if rp := st.Replay; rp != nil {
		r := &replay[S]{next: rp.Next, received: rp.Received, budget: rp.Budget, kept: slices.Clone(rp.Kept)}
		for _, f := range r.kept {
			r.bytes += len(f)
		}
		c.resumable = true
		s.replays.Store(c, r)
	}
}

// Discard forgets c, a connection imported while its server is frozen,
// running nothing: its copy of the socket is closed, never shut down. A
// reload discards a connection adopted before its pause that the old
// process closed meanwhile (and undid everything for).
func (c *Conn[S]) Discard() {
	s := c.srv
	c.mu.Lock()
	if c.state == stateReleased {
		c.mu.Unlock()
		return
	}
	c.state, c.out = stateReleased, nil
	if c.resumable {
		s.replays.Delete(c)
	}
	c.mu.Unlock()
	c.in = nil
	s.closeSocket(int(c.fd))
	s.finish(c)
}

// DupFD returns a duplicate of c's socket (close-on-exec) for a process
// taking connections over while this one still serves them; the caller
// closes it once passed on. From here on the server's sockets may live on
// in another process (see closeSocket).
func (c *Conn[S]) DupFD() (int, error) {
	c.srv.shared.Store(true)
	return unix.FcntlInt(uintptr(c.fd), unix.F_DUPFD_CLOEXEC, 0)
}
