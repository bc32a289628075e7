//go:build linux

package transport

import (
	"bytes"
	"errors"
	"sync"

	"golang.org/x/sys/unix"

	"msgo/framework/internal/wsframe"
)

// errSlow is the write error of a connection whose queue overflowed.
var errSlow = errors.New("transport: connection too slow to read its messages")

// iovMax bounds one writev (Linux IOV_MAX is 1024).
const iovMax = 1024

// Send writes one encoded WebSocket frame (or several back to back) to c.
// The bytes are shared, never copied or modified, so one frame can be sent
// to any number of connections. It writes straight to the socket when
// nothing is queued and never blocks: a socket that cannot take more is
// served by the poller's next write readiness. Output past WriteQueueBytes
// closes the connection with 1008. It returns ErrClosed once c's close began.
func (c *Conn[S]) Send(b []byte) error { return c.write(b, false) }

// SendBorrowed is Send for a frame in a buffer the caller reuses: what the
// socket does not take at once is copied into the queue.
func (c *Conn[S]) SendBorrowed(b []byte) error { return c.write(b, true) }

func (c *Conn[S]) write(b []byte, borrowed bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return c.keepLocked(b)
	}
	if r := c.replayOf(); r != nil {
		b, _ = c.numberLocked(r, b)
		borrowed = false
		if r.holding {
			return nil
		}
	}
	c.srv.metrics.frameOut(len(b))
	if c.out == nil && !c.starting && !c.srv.paused.Load() {
		n, err := sockWrite(c.fd, b)
		if n == len(b) {
			return nil
		}
		if err != nil && err != unix.EAGAIN && err != unix.EINTR {
			c.srv.schedule(c, flagAbort)
			return err
		}
		if n > 0 {
			b = b[n:]
			c.outbox().headPartial = true
		}
	}
	if borrowed {
		b = bytes.Clone(b)
	}
	return c.enqueueLocked(b)
}

// Queue adds b to c's output without writing it, for a flusher to write
// (see Server.Fanout). It reports whether c needs that flush: its queue was
// empty and nothing else (the handshake, a write readiness) will write it.
func (c *Conn[S]) Queue(b []byte) (needFlush bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return false, c.keepLocked(b)
	}
	if r := c.replayOf(); r != nil {
		b, _ = c.numberLocked(r, b)
		if r.holding {
			return false, nil
		}
	}
	if err := c.enqueueLocked(b); err != nil {
		return false, err
	}
	return len(c.out.wq) == 1 && !c.starting, nil
}

// enqueueLocked appends b to the queue, or closes c with 1008 when the queue
// would pass WriteQueueBytes.
func (c *Conn[S]) enqueueLocked(b []byte) error {
	if c.queued()+len(b) > c.srv.cfg.WriteQueueBytes {
		// The queue may be long only because the flushers are behind, which
		// is no fault of the client: write what waits, and judge the client
		// by what its socket refuses.
		c.flushLocked()
	}
	if c.state == stateOpen && c.queued()+len(b) > c.srv.cfg.WriteQueueBytes {
		c.srv.metrics.slowClose()
		c.beginCloseLocked(wsframe.ClosePolicy, "too slow to read its messages", true)
		return errSlow
	}
	o := c.outbox()
	o.wq = append(o.wq, b)
	o.bytes += len(b)
	return nil
}

// outbox is output waiting for the socket. Only a connection with output
// waiting has one, and outboxes are recycled, so queueing a push allocates
// nothing: the first queueCap frames go in the outbox's own array.
type outbox struct {
	wq          [][]byte
	bytes       int
	headPartial bool // wq[0] was partly written: a close must not cut it
	arr         [queueCap][]byte
}

const queueCap = 4

var outboxes = sync.Pool{New: func() any { return new(outbox) }}

// outbox returns c's output queue, taking one if c has none; the caller
// holds c.mu.
func (c *Conn[S]) outbox() *outbox {
	if c.out == nil {
		o := outboxes.Get().(*outbox)
		o.wq = o.arr[:0]
		c.out = o
	}
	return c.out
}

// queued returns how many bytes wait for the socket; the caller holds c.mu.
func (c *Conn[S]) queued() int {
	if c.out == nil {
		return 0
	}
	return c.out.bytes
}

// releaseQueueLocked drops c's empty queue, recycling its outbox.
func (c *Conn[S]) releaseQueueLocked() {
	if o := c.out; o != nil {
		clear(o.arr[:])
		*o = outbox{}
		outboxes.Put(o)
		c.out = nil
	}
}

// flush writes what is queued, as much as the socket takes, in one writev per
// call where it can.
func (c *Conn[S]) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked()
}

func (c *Conn[S]) flushLocked() {
	if c.starting || c.srv.paused.Load() {
		return
	}
	for o := c.out; o != nil && len(o.wq) > 0 && c.state != stateReleased; {
		n, err := sockWritev(c.fd, o.wq)
		if n > 0 {
			o.consume(n)
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return
		}
		if err != nil {
			c.srv.schedule(c, flagAbort)
			return
		}
	}
	if c.out == nil || len(c.out.wq) == 0 {
		c.releaseQueueLocked() // an idle connection keeps no queue
		if c.state == stateClosing {
			// Our close frame is out: half-close so the peer sees it and answers
			// with its own close and FIN.
			unix.Shutdown(int(c.fd), unix.SHUT_WR)
		}
	}
}

// consume drops n written bytes from the head of the queue.
func (o *outbox) consume(n int) {
	if n == o.bytes { // all of it, the usual case: keep the array's start
		clear(o.wq)
		o.wq = o.wq[:0]
		o.bytes = 0
		o.headPartial = false
		return
	}
	o.bytes -= n
	for n > 0 {
		if n < len(o.wq[0]) {
			o.wq[0] = o.wq[0][n:]
			o.headPartial = true
			return
		}
		n -= len(o.wq[0])
		o.wq[0] = nil
		o.wq = o.wq[1:]
		o.headPartial = false
	}
}

// beginCloseLocked queues a close frame and moves c to closing. When drop is
// set (the peer is not reading), queued frames are dropped, except the rest of
// one already partly on the wire, so the close frame is next.
func (c *Conn[S]) beginCloseLocked(code int, reason string, drop bool) {
	if c.state != stateOpen {
		return
	}
	c.state = stateClosing
	c.closeCode = uint16(code)
	c.closingAt = c.srv.now()
	o := c.outbox()
	if drop && len(o.wq) > 0 {
		keep := 0
		if o.headPartial {
			keep = 1
		}
		for i := keep; i < len(o.wq); i++ {
			o.bytes -= len(o.wq[i])
			o.wq[i] = nil
		}
		o.wq = o.wq[:keep]
	}
	f := closeFrame(code, reason)
	o.wq = append(o.wq, f)
	o.bytes += len(f)
	c.flushLocked()
	c.srv.schedule(c, flagClose)
}

// Close starts the close handshake with code and reason; safe from any
// goroutine and idempotent: the first close wins. Options.Closed runs after.
func (c *Conn[S]) Close(code int, reason string) {
	c.mu.Lock()
	if c.state == stateDetached && c.closeCode == 0 {
		c.closeCode = uint16(code)
		c.srv.schedule(c, flagExpire)
	}
	c.beginCloseLocked(code, reason, code == wsframe.ClosePolicy)
	c.mu.Unlock()
}

// Close frames the server sends often, built once; used when no reason is given.
var compiledClose = map[int][]byte{
	wsframe.CloseNormal:         wsframe.BuildClose(wsframe.CloseNormal, ""),
	wsframe.CloseGoingAway:      wsframe.BuildClose(wsframe.CloseGoingAway, "server stopping"),
	wsframe.CloseServiceRestart: wsframe.BuildClose(wsframe.CloseServiceRestart, "service restart"),
	wsframe.CloseIdle:           wsframe.BuildClose(wsframe.CloseIdle, "idle timeout"),
}

func closeFrame(code int, reason string) []byte {
	if f, ok := compiledClose[code]; ok && reason == "" {
		return f
	}
	return wsframe.BuildClose(code, reason)
}

// Buffered returns how many bytes of c's output wait for the socket.
func (c *Conn[S]) Buffered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued()
}
