//go:build linux

package transport

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// Work bits a connection can be scheduled for; a connection is on the run
// queue or in a worker at most once (flagQueued), so its frames are handled
// in arrival order by one goroutine at a time.
const (
	flagQueued uint32 = 1 << iota
	flagRead          // the socket is readable (or hung up)
	flagWrite         // the socket is writable again
	flagClose         // a close began: run the close hooks
	flagAbort         // give up on the socket now: release it
	flagHup           // the peer hung up or the socket errored: read to the end
	flagExpire        // end the connection if it is still detached
	flagAdopt         // a connection waits to take this one's place
	flagResume        // the answer c waited for is in: handle it, then read again
)

// Connection life: open, then closing (our close frame is queued, hooks run,
// we wait for the peer to close the TCP connection), then released (fd closed).
// A resumable connection whose socket is lost is detached (no socket, hooks
// not run) until a resume makes it open again or it expires; a connection
// that asked to resume another is parked until that one adopts its socket.
const (
	stateOpen uint8 = iota
	stateClosing
	stateReleased
	stateDetached
	stateParked
)

// ConnID identifies a connection inside one process. It is never reused while
// the process runs, unlike the OS file descriptor.
type ConnID uint64

// Conn is one WebSocket connection and everything known about it: the
// transport's own state (socket, partial input, queued output, close
// progress) and the layer above's session S (who it is, what to undo at
// close), in one value so that it can be exported whole (see State). It is
// kept small because an idle node holds many: what only some connections need
// at some moments is behind a pointer that is nil otherwise. An idle Conn
// holds no buffers: in exists only during the handshake and while a frame or
// a fragmented message is incomplete, out only while output waits for the
// socket.
type Conn[S any] struct {
	id  ConnID
	srv *Server[S]
	ip  *ipCount // nil when connections per address are not limited

	lastSeen atomic.Int64 // server clock seconds
	flags    atomic.Uint32
	fd       int32

	// Read side: touched only by the worker that holds flagQueued.
	in *inbound[S]

	// Write side and lifecycle, under mu.
	mu        sync.Mutex
	state     uint8
	closedRan bool
	starting  bool // 101 not yet written: output waits in out
	resumable bool // numbered and kept output (see StartReplay); set by its worker
	closeCode uint16
	waiting   bool  // waiting on the layer above: read nothing until Resume
	held      uint8 // read work (flagRead, flagHup) that came while frozen: Thaw schedules it
	shakeAt   int64 // server clock when accepted; 0 once the handshake succeeded
	closingAt int64
	out       *outbox
	session   S
}

// inbound is a connection's read state.
type inbound[S any] struct {
	peer netip.Addr // while handshaking: the socket's peer
	pend []byte     // an incomplete frame or request head
	frag *fragment
	// resume, set by ResumeSession during a message, parks the connection once
	// that message returns.
	resume *resumeReq[S]
}

// ID returns the connection's id.
func (c *Conn[S]) ID() ConnID { return c.id }

// Session returns the layer above's state of c. What it holds is the
// caller's to guard: fields set before the connection opened and never
// changed are safe to read anywhere; others are changed under Edit.
func (c *Conn[S]) Session() *S { return &c.session }

// Edit calls fn with c's session under c's lock; open is false once c's
// close began. fn must not call back into c.
func (c *Conn[S]) Edit(fn func(s *S, open bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.session, c.state == stateOpen)
}

// input returns c's read state, creating it; only c's worker calls it.
func (c *Conn[S]) input() *inbound[S] {
	if c.in == nil {
		c.in = &inbound[S]{}
	}
	return c.in
}

// pending returns the incomplete input kept for c.
func (c *Conn[S]) pending() []byte {
	if c.in == nil {
		return nil
	}
	return c.in.pend
}

// fragment returns the fragmented message being reassembled, if any.
func (c *Conn[S]) fragment() *fragment {
	if c.in == nil {
		return nil
	}
	return c.in.frag
}

// setPending keeps b (nil for none) as c's incomplete input.
func (c *Conn[S]) setPending(b []byte) {
	if c.in == nil && b == nil {
		return
	}
	c.input().pend = b
	c.trimInput()
}

// setFragment keeps f (nil for none) as the message being reassembled.
func (c *Conn[S]) setFragment(f *fragment) {
	if c.in == nil && f == nil {
		return
	}
	c.input().frag = f
	c.trimInput()
}

// trimInput drops c's read state once it holds nothing.
func (c *Conn[S]) trimInput() {
	if in := c.in; in != nil && in.pend == nil && in.frag == nil && in.resume == nil {
		c.in = nil
	}
}

// fragment is a fragmented message being reassembled.
type fragment struct {
	op  byte
	buf []byte
}

// schedule marks work for c and queues it unless it is already queued.
func (s *Server[S]) schedule(c *Conn[S], bits uint32) {
	if c.claim(bits) {
		s.runq <- c
	}
}

// claim marks work for c and reports whether the caller took c to run it
// now: false when c is already queued or running, which then finds the bits.
func (c *Conn[S]) claim(bits uint32) bool {
	for {
		old := c.flags.Load()
		if c.flags.CompareAndSwap(old, old|bits|flagQueued) {
			return old&flagQueued == 0
		}
	}
}

// take returns the work bits set since the last take, or 0 after releasing
// the queued mark when there is none.
func (c *Conn[S]) take() uint32 {
	for {
		old := c.flags.Load()
		if work := old &^ flagQueued; work != 0 {
			if c.flags.CompareAndSwap(old, flagQueued) {
				return work
			}
			continue
		}
		if c.flags.CompareAndSwap(old, 0) {
			return 0
		}
	}
}

// run does everything scheduled for c, then releases it. Close hooks run
// before reading, so no handler of c runs after its close began.
func (s *Server[S]) run(c *Conn[S]) {
	for {
		work := c.take()
		if work == 0 {
			return
		}
		if work&flagAbort != 0 {
			s.abort(c)
		}
		if work&flagExpire != 0 {
			s.expire(c)
		}
		if work&flagAdopt != 0 {
			s.adopt(c)
		}
		if work&flagWrite != 0 {
			c.flush()
		}
		if work&flagClose != 0 {
			s.closed(c)
		}
		if work&flagResume != 0 {
			if s.resume(c) {
				work &^= flagRead // parked: its socket goes to the session it resumes
			} else {
				work |= flagRead // what arrived while it waited
			}
		}
		if work&flagRead == 0 {
			continue
		}
		if s.paused.Load() {
			// Frozen: the socket keeps its input; Thaw (or the process
			// the connection moves to) reads it.
			s.holdRead(c, work)
		} else if s.read(c, work&flagHup != 0) {
			// One busy connection must not keep a worker: back of the queue,
			// still marked queued so the poller does not queue it twice.
			c.flags.Or(flagRead | work&flagHup)
			select {
			case s.runq <- c:
				return
			default:
			}
		}
	}
}

// holdRead keeps c's read work for Thaw, which schedules only the
// connections that have some. Run by c's worker.
func (s *Server[S]) holdRead(c *Conn[S], work uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held |= uint8(work & (flagRead | flagHup))
	if !s.paused.Load() {
		// Thaw may have passed c already: the next turn of run reads.
		c.flags.Or(c.takeHeldLocked())
	}
}

// thawWork returns and clears the read work held for Thaw, with flagWrite
// when output waits.
func (c *Conn[S]) thawWork() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.takeHeldLocked()
	if c.out != nil && len(c.out.wq) > 0 {
		w |= flagWrite
	}
	return w
}

// takeHeldLocked returns and clears the read work held for Thaw; the
// caller holds c.mu.
func (c *Conn[S]) takeHeldLocked() uint32 {
	h := uint32(c.held)
	c.held = 0
	return h
}

// CloseCode returns the code c closed with, once its close began: the
// client's, 1006 when the socket ended without a close frame, or the one
// given to Close. Options.Closed reads it.
func (c *Conn[S]) CloseCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.closeCode)
}
