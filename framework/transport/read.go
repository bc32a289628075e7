//go:build linux

package transport

import (
	"sync"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"msgo/framework/internal/wsframe"
)

const (
	readChunk       = 16 << 10
	maxReadsPerWake = 16 // then the connection goes to the back of the queue
)

// readBufs lends read buffers to workers for one wake-up; an idle connection
// holds none.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, readChunk); return &b }}

// read drains the socket (up to maxReadsPerWake reads), handling every
// complete frame as it arrives. Bytes of an incomplete frame are copied out to
// c.pend until the rest arrives. It reports whether the socket may hold more.
//
// A read that returns less than it asked for drained the socket at that
// moment, and data arriving later raises a new edge, so the read that would
// only say EAGAIN is skipped (one syscall less per message). After a hang-up
// (hup) it reads on to the end, since no edge follows the last one.
func (s *Server[S]) read(c *Conn[S], hup bool) (more bool) {
	c.mu.Lock()
	idle := c.state == stateReleased || c.waiting
	c.mu.Unlock()
	if idle {
		return false
	}
	if c.shakeAt != 0 { // written only by this worker once accepted
		return s.readHead(c)
	}
	bp := readBufs.Get().(*[]byte)
	b := append((*bp)[:0], c.pending()...)
	c.setPending(nil)
	need, stop := 0, false
	if len(b) > 0 {
		// Left over: usually part of a frame, but what the handshake read
		// past the request head may hold whole frames, and no read would
		// bring them to frames.
		b, need, stop = s.consume(c, b)
	}
	for i := 0; !stop; i++ {
		if i == maxReadsPerWake {
			more = true
			break
		}
		if need > cap(b) {
			nb := make([]byte, len(b), need)
			copy(nb, b)
			b = nb
		}
		room := cap(b) - len(b)
		n, err := sockRead(c.fd, b[len(b):cap(b)])
		if n > 0 {
			b = b[:len(b)+n]
			c.lastSeen.Store(s.now())
			b, need, stop = s.consume(c, b)
			if n < room && !hup {
				break
			}
			continue
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		// EOF or a socket error: the peer is gone.
		s.abort(c)
		b = b[:0]
		break
	}
	if len(b) > 0 {
		c.setPending(append([]byte(nil), b...))
	}
	if cap(b) == readChunk {
		*bp = b[:0]
	}
	readBufs.Put(bp)
	return more
}

// consume handles the complete frames at the start of b and returns the
// bytes left, moved to the start of b, with frames' need and stop.
func (s *Server[S]) consume(c *Conn[S], b []byte) (rest []byte, need int, stop bool) {
	used, need, stop := s.frames(c, b)
	if stop {
		return b[:0], 0, true
	}
	rest = b[:copy(b, b[used:])]
	if s.isWaiting(c) {
		return rest, 0, true // kept until Resume
	}
	return rest, need, false
}

// frames handles the complete frames at the start of b. It returns how many
// bytes they used, how many bytes the next frame needs when known (0 if not),
// and stop when the connection stopped reading.
func (s *Server[S]) frames(c *Conn[S], b []byte) (used, need int, stop bool) {
	for {
		if c.isClosing() {
			return s.drainClosing(c, b[used:]) + used, 0, false
		}
		h, hn, err := wsframe.ParseHeader(b[used:])
		if err == wsframe.ErrShort {
			return used, 0, false
		}
		if err != nil {
			return used, 0, s.fail(c, wsframe.CloseProtocolError, err.Error())
		}
		if code, reason := s.checkHeader(c, h); code != 0 {
			return used, 0, s.fail(c, code, reason)
		}
		total := hn + int(h.Length)
		if len(b)-used < total {
			return used, total, false
		}
		payload := b[used+hn : used+total]
		used += total
		wsframe.Unmask(payload, h.Mask)
		if h.IsControl() {
			if s.control(c, h.Op, payload) {
				return used, 0, true
			}
			continue
		}
		if code, reason := s.data(c, h, payload); code != 0 {
			return used, 0, s.fail(c, code, reason)
		}
		if in := c.in; in != nil && in.resume != nil {
			s.park(c, b[used:])
			return used, 0, true
		}
		if s.isWaiting(c) {
			return used, 0, false
		}
	}
}

// checkHeader judges a header before its payload arrives, so an oversized
// frame is refused from its header alone.
func (s *Server[S]) checkHeader(c *Conn[S], h wsframe.Header) (int, string) {
	switch {
	case h.Rsv != 0:
		return wsframe.CloseProtocolError, "RSV bits set without an extension"
	case !h.Masked:
		return wsframe.CloseProtocolError, "unmasked client frame"
	case h.IsControl():
		return 0, ""
	case h.Length > int64(s.cfg.MaxFrameSize):
		return wsframe.CloseTooBig, "frame over max_frame_size"
	case h.Op == wsframe.OpContinuation && c.fragment() == nil:
		return wsframe.CloseProtocolError, "continuation without a message"
	case h.Op != wsframe.OpContinuation && c.fragment() != nil:
		return wsframe.CloseProtocolError, "new message inside a fragmented one"
	case c.fragment() != nil && len(c.fragment().buf)+int(h.Length) > s.cfg.MaxMessageSize,
		!h.Fin && h.Length > int64(s.cfg.MaxMessageSize):
		return wsframe.CloseTooBig, "message over max_message_size"
	}
	return 0, ""
}

// data handles a text, binary or continuation frame; payload is borrowed.
func (s *Server[S]) data(c *Conn[S], h wsframe.Header, payload []byte) (int, string) {
	if h.Op != wsframe.OpContinuation {
		if !h.Fin {
			c.setFragment(&fragment{op: h.Op, buf: append([]byte(nil), payload...)})
			return 0, ""
		}
		return s.message(c, h.Op, payload)
	}
	f := c.fragment()
	f.buf = append(f.buf, payload...)
	if !h.Fin {
		return 0, ""
	}
	c.setFragment(nil)
	return s.message(c, f.op, f.buf)
}

func (s *Server[S]) message(c *Conn[S], op byte, msg []byte) (int, string) {
	if op == wsframe.OpText && !utf8.Valid(msg) {
		return wsframe.CloseInvalidPayload, "invalid UTF-8 in a text frame"
	}
	s.metrics.frameIn(len(msg))
	if r := c.replayOf(); r != nil {
		r.received++ // only this worker touches it
	}
	s.onMsg(c, msg)
	return 0, ""
}

// control handles ping, pong and close; it reports whether reading stops.
func (s *Server[S]) control(c *Conn[S], op byte, payload []byte) bool {
	switch op {
	case wsframe.OpPing:
		// The layer above may refuse a pong (a ping costs a write, as a
		// message does); the connection stays either way.
		if s.onPing == nil || s.onPing(c) {
			c.Send(wsframe.Build(wsframe.OpPong, payload))
		}
	case wsframe.OpClose:
		code, ok, badUTF8 := wsframe.ParseClose(payload)
		switch {
		case badUTF8:
			return s.fail(c, wsframe.CloseInvalidPayload, "invalid UTF-8 in the close reason")
		case !ok:
			return s.fail(c, wsframe.CloseProtocolError, "invalid close payload")
		case code == wsframe.CloseNoStatus:
			code = wsframe.CloseNormal
		}
		// Echo the peer's code, as RFC 6455 section 5.5.1 asks.
		c.Close(code, "")
	}
	return false
}

// fail closes c for a protocol violation and stops reading.
func (s *Server[S]) fail(c *Conn[S], code int, reason string) bool {
	c.setFragment(nil)
	c.Close(code, reason)
	return true
}

// drainClosing reads what a closing peer still sends, looking only for its
// close frame (or its FIN, seen by read as EOF), and reports the bytes used.
func (s *Server[S]) drainClosing(c *Conn[S], b []byte) int {
	used := 0
	for {
		h, hn, err := wsframe.ParseHeader(b[used:])
		// Length is compared, not added: a peer may claim up to 2^63-1 bytes.
		if err != nil || h.Length > int64(len(b)-used-hn) {
			if err != nil && err != wsframe.ErrShort {
				s.schedule(c, flagAbort)
				return len(b)
			}
			return used
		}
		used += hn + int(h.Length)
		if h.Op == wsframe.OpClose {
			s.schedule(c, flagAbort)
			return len(b)
		}
	}
}

func (c *Conn[S]) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state != stateOpen
}

// isReleased reports whether c stopped reading for good, or for now
// (parked: its socket is moving to the connection it resumes).
func (c *Conn[S]) isReleased() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateReleased || c.state == stateParked
}

// IsResumable reports whether StartReplay made c resumable.
func (c *Conn[S]) IsResumable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resumable
}
