package framework

import (
	"errors"

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
func (c *conn) send(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return ErrConnGone
	}
	c.srv.metrics.frameOut(len(b))
	return c.enqueueLocked(b)
}

func (c *conn) enqueueLocked(b []byte) error {
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
	if c.state == stateOpen && c.wqBytes+len(b) > c.srv.cfg.WriteQueueBytes {
		c.srv.metrics.slowClose()
		c.beginCloseLocked(wsframe.ClosePolicy, "too slow to read its messages", true)
		return errSlow
	}
	c.wq = append(c.wq, b)
	c.wqBytes += len(b)
	return nil
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
		c.wq = nil // an idle connection keeps no queue
		if c.state == stateClosing {
			// Our close frame is out: half-close so the peer sees it and answers
			// with its own close and FIN.
			unix.Shutdown(c.fd, unix.SHUT_WR)
		}
	}
}

// consumeLocked drops n written bytes from the head of the queue.
func (c *conn) consumeLocked(n int) {
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
