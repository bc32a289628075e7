package framework

import (
	"bytes"
	"errors"
	"sync"

	"golang.org/x/sys/unix"

	"msgo/framework/internal/wsframe"
)

// errSlow is the write error of a connection whose queue overflowed.
var errSlow = errors.New("framework: connection too slow to read its messages")

// iovMax bounds one writev (Linux IOV_MAX is 1024).
const iovMax = 1024

// send queues one encoded frame for c. The frame is shared, never copied or
// modified, so one Frame can be sent to any number of connections. It writes
// straight to the socket when nothing is queued and never blocks: a socket that
// cannot take more is served by the poller's next write readiness. Output past
// WriteQueueBytes closes the connection with 1008.
func (c *conn) send(b []byte) error { return c.write(b, false) }

// sendBorrowed is send for a frame in a buffer the caller reuses: what the
// socket does not take at once is copied into the queue.
func (c *conn) sendBorrowed(b []byte) error { return c.write(b, true) }

func (c *conn) write(b []byte, borrowed bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return ErrConnGone
	}
	c.srv.metrics.frameOut(len(b))
	if len(c.wq) == 0 && !c.starting {
		n, err := unix.Write(c.fd, b)
		if n == len(b) {
			return nil
		}
		if err != nil && err != unix.EAGAIN && err != unix.EINTR {
			c.srv.schedule(c, flagAbort)
			return err
		}
		if n > 0 {
			b = b[n:]
			c.headPartial = true
		}
	}
	if borrowed {
		b = bytes.Clone(b)
	}
	return c.enqueueLocked(b)
}

// queue adds b to c's output without writing it, for a flusher to write
// (see flushers). It reports whether c needs that flush: its queue was empty
// and nothing else (the handshake, a write readiness) will write it.
func (c *conn) queue(b []byte) (needFlush bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return false, ErrConnGone
	}
	if err := c.enqueueLocked(b); err != nil {
		return false, err
	}
	return len(c.wq) == 1 && !c.starting, nil
}

// enqueueLocked appends b to the queue, or closes c with 1008 when the queue
// would pass WriteQueueBytes.
func (c *conn) enqueueLocked(b []byte) error {
	if c.wqBytes+len(b) > c.srv.cfg.WriteQueueBytes {
		// The queue may be long only because the flushers are behind, which
		// is no fault of the client: write what waits, and judge the client
		// by what its socket refuses.
		c.flushLocked()
	}
	if c.state == stateOpen && c.wqBytes+len(b) > c.srv.cfg.WriteQueueBytes {
		c.srv.metrics.slowClose()
		c.beginCloseLocked(wsframe.ClosePolicy, "too slow to read its messages", true)
		return errSlow
	}
	if c.wq == nil {
		c.wq = queues.Get().(*[queueCap][]byte)[:0]
	}
	c.wq = append(c.wq, b)
	c.wqBytes += len(b)
	return nil
}

// queues recycles the backing arrays of short output queues, so queueing a
// push allocates nothing: a queue that empties with its array unmoved gives
// it back.
var queues = sync.Pool{New: func() any { return new([queueCap][]byte) }}

const queueCap = 4

// releaseQueueLocked drops the empty queue, recycling its array.
func (c *conn) releaseQueueLocked() {
	if cap(c.wq) == queueCap {
		a := (*[queueCap][]byte)(c.wq[:queueCap])
		clear(a[:])
		queues.Put(a)
	}
	c.wq = nil
}

// flush writes what is queued, as much as the socket takes, in one writev per
// call where it can.
func (c *conn) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked()
}

func (c *conn) flushLocked() {
	if c.starting {
		return
	}
	for len(c.wq) > 0 && c.state != stateReleased {
		iov := c.wq
		if len(iov) > iovMax {
			iov = iov[:iovMax]
		}
		n, err := unix.Writev(c.fd, iov)
		if n > 0 {
			c.consumeLocked(n)
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
	if len(c.wq) == 0 {
		c.releaseQueueLocked() // an idle connection keeps no queue
		if c.state == stateClosing {
			// Our close frame is out: half-close so the peer sees it and answers
			// with its own close and FIN.
			unix.Shutdown(c.fd, unix.SHUT_WR)
		}
	}
}

// consumeLocked drops n written bytes from the head of the queue.
func (c *conn) consumeLocked(n int) {
	if n == c.wqBytes { // all of it, the usual case: keep the array's start
		clear(c.wq)
		c.wq = c.wq[:0]
		c.wqBytes = 0
		c.headPartial = false
		return
	}
	c.wqBytes -= n
	for n > 0 {
		if n < len(c.wq[0]) {
			c.wq[0] = c.wq[0][n:]
			c.headPartial = true
			return
		}
		n -= len(c.wq[0])
		c.wq[0] = nil
		c.wq = c.wq[1:]
		c.headPartial = false
	}
}

// beginCloseLocked queues a close frame and moves c to closing. When drop is
// set (the peer is not reading), queued frames are dropped, except the rest of
// one already partly on the wire, so the close frame is next.
func (c *conn) beginCloseLocked(code int, reason string, drop bool) {
	if c.state != stateOpen {
		return
	}
	c.state = stateClosing
	c.closeCode = uint16(code)
	c.closingAt = c.srv.now()
	if drop && len(c.wq) > 0 {
		keep := 0
		if c.headPartial {
			keep = 1
		}
		for i := keep; i < len(c.wq); i++ {
			c.wqBytes -= len(c.wq[i])
			c.wq[i] = nil
		}
		c.wq = c.wq[:keep]
	}
	c.wq = append(c.wq, closeFrame(code, reason))
	c.wqBytes += len(c.wq[len(c.wq)-1])
	c.flushLocked()
	c.srv.schedule(c, flagClose)
}

// closeWith starts the close handshake with code; safe from any goroutine and
// idempotent: the first close wins.
func (c *conn) closeWith(code int, reason string) {
	c.mu.Lock()
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
