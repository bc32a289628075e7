//go:build linux

package transport

import (
	"net/http"
	"net/netip"
	"sync"
)

// A connection can wait on the layer above: for the verdict on its
// handshake (Options.Admit), or for an answer it asked for elsewhere (Pause).
// While it waits it holds no worker and reads nothing further, so its order
// is kept; Resume runs the continuation on its worker and reading goes on
// with what arrived meanwhile.

// Headers are the handshake's request headers the layer above is told
// (Options.Admit).
type Headers struct {
	Origin    string
	UserAgent string
}

// Verdict is the layer above's answer to a handshake (Options.Admit).
type Verdict struct {
	Status int    // 0 opens the connection; else the HTTP status it is refused with
	Info   string // the refusal's body
	Reason string // the refusal's label in the handshake metric
	Left   func() // when set, runs if the client left while the verdict was out
}

// resumes holds, for each waiting connection, what to do on its worker once
// its answer is in; a map, not a field, since few connections wait at once.
type resumes[S any] struct {
	mu sync.Mutex
	fn map[*Conn[S]]func()
}

// IP returns the client's address: known when connections per address are
// limited or Options.Admit is set, the zero Addr otherwise.
func (c *Conn[S]) IP() netip.Addr {
	if c.ip == nil {
		return netip.Addr{}
	}
	return c.ip.addr
}

// Pause stops reading c: what is left of the current read and what arrives
// later wait until Resume. Call it on c's worker (from Options.Message).
func (c *Conn[S]) Pause() {
	c.srv.wait(c, true)
}

// Resume runs fn (when not nil) on c's worker, then lets c read again. Any
// goroutine may call it, once per Pause.
func (c *Conn[S]) Resume(fn func()) {
	s := c.srv
	s.resumes.mu.Lock()
	if s.resumes.fn == nil {
		s.resumes.fn = make(map[*Conn[S]]func())
	}
	s.resumes.fn[c] = fn
	s.resumes.mu.Unlock()
	s.schedule(c, flagResume)
}

// wait marks c as waiting, or not.
func (s *Server[S]) wait(c *Conn[S], waiting bool) {
	c.mu.Lock()
	if c.waiting != waiting {
		c.waiting = waiting
		if waiting {
			s.waiting.Add(1)
		} else {
			s.waiting.Add(-1)
		}
	}
	c.mu.Unlock()
}

// isWaiting reports whether c waits; one atomic load when nothing does,
// since it is asked after every frame.
func (s *Server[S]) isWaiting(c *Conn[S]) bool {
	if s.waiting.Load() == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}

// resume runs on c's worker: c's continuation runs, then c reads what
// arrived meanwhile.
//
// fn may call ResumeSession: c then parks at once, with the input that
// waited, and resume reports true (c reads no further).
func (s *Server[S]) resume(c *Conn[S]) (parked bool) {
	s.resumes.mu.Lock()
	fn := s.resumes.fn[c]
	delete(s.resumes.fn, c)
	s.resumes.mu.Unlock()
	s.wait(c, false)
	if fn != nil {
		fn()
	}
	if in := c.in; in != nil && in.resume != nil {
		rest := in.pend
		in.pend = nil
		s.park(c, rest)
		return true
	}
	return false
}

// admit asks the layer above about a handshake whose upgrade succeeded; resp
// is its 101 and rest what the client sent behind the request head.
func (s *Server[S]) admit(c *Conn[S], h *handshake[S], resp, rest []byte) {
	hdr := Headers{Origin: string(h.origin), UserAgent: string(h.agent)}
	s.wait(c, true)
	s.onAdmit(c, hdr, func(v Verdict) {
		c.Resume(func() { s.admitted(c, v, resp, rest) })
	})
}

// admitted opens c as the verdict says, or refuses it.
func (s *Server[S]) admitted(c *Conn[S], v Verdict, resp, rest []byte) {
	if v.Status != 0 {
		status, info := v.Status, v.Info
		if info == "" {
			info = http.StatusText(status)
		}
		s.ips.release(c.ip)
		s.metrics.handshake(v.Reason)
		s.answer(c, status, info)
		s.drop(c)
		return
	}
	if c.isReleased() { // the client left while the verdict was out
		s.ips.release(c.ip)
		if v.Left != nil {
			v.Left()
		}
		return
	}
	s.metrics.handshake("ok")
	s.open(c, resp)
	if len(rest) > 0 {
		c.setPending(rest)
	}
}
