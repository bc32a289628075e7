package framework

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"sync"
)

// Backend is business logic that lives outside this process: package proxy
// forwards it to an HTTP (PHP) backend. The server consults it at three
// points of a connection's life: its handshake, a request for a method the
// backend answers, and its end. None of its methods may block: a call that
// waits on the network goes to the backend's own bounded pool, and its answer
// comes back through done, on any goroutine. While it waits, the connection
// holds no worker and reads nothing further, so its order is kept.
type Backend interface {
	// Connect decides a handshake whose token was accepted, before its 101.
	// It returns false when it cannot take the call now (the handshake is
	// refused with 503); otherwise it calls done exactly once.
	Connect(p Peer, h ConnectHeaders, done func(Admission)) bool
	// Forwards reports whether the backend answers method (lower-cased).
	Forwards(method string) bool
	// Call forwards one request. It returns false when it cannot take it now
	// (the client gets 503); otherwise it calls done exactly once. id and
	// params are the caller's to keep.
	Call(p Peer, method string, id, params json.RawMessage, done func(BackendReply)) bool
	// Closed reports that a connection Connect admitted has ended, with the
	// close code: the client's, 1006 without a close frame, or the server's.
	Closed(p Peer, code int)
	// NodeLost reports that this node purged a node that died without
	// stopping; several nodes may report the same one.
	NodeLost(node string)
}

// Peer is a connection as a Backend sees it.
type Peer struct {
	Node string
	ID   ConnID
	IP   netip.Addr
	User Identity
}

// ConnectHeaders are the handshake's request headers a Backend is told.
type ConnectHeaders struct {
	Origin    string
	UserAgent string
}

// Admission is a Backend's answer to a handshake. Status 200 admits it:
// the connection joins Rooms before its 101 is written, and Param, when not
// nil, is its first frame (event sys.connect). 403 refuses it with 403,
// anything else with 503.
type Admission struct {
	Status int
	Info   string
	Rooms  []string
	Param  json.RawMessage
}

// BackendReply is a Backend's answer to a request: the reply's status, info
// and param (nil for {}).
type BackendReply struct {
	Status int
	Info   string
	Param  json.RawMessage
}

// EventConnect is the event of the first frame a Backend's admission sends.
const EventConnect = "sys.connect"

// resumes holds, for each connection waiting on its Backend, what to do on
// its worker once the answer is in.
type resumes struct {
	mu sync.Mutex
	fn map[*conn]func()
}

// wait marks c as waiting on the backend: it reads nothing until resumed.
func (s *Server) wait(c *conn, waiting bool) {
	c.mu.Lock()
	c.waiting = waiting
	c.mu.Unlock()
}

func (c *conn) isWaiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}

// resumeWith runs fn on c's worker and lets c read again; any goroutine may
// call it, once per wait.
func (s *Server) resumeWith(c *conn, fn func()) {
	s.resumes.mu.Lock()
	if s.resumes.fn == nil {
		s.resumes.fn = make(map[*conn]func())
	}
	s.resumes.fn[c] = fn
	s.resumes.mu.Unlock()
	s.schedule(c, flagResume)
}

// resume runs on c's worker: the backend's answer is handled, then c reads
// what arrived meanwhile.
func (s *Server) resume(c *conn) {
	s.resumes.mu.Lock()
	fn := s.resumes.fn[c]
	delete(s.resumes.fn, c)
	s.resumes.mu.Unlock()
	s.wait(c, false)
	if fn != nil {
		fn()
	}
}

func (s *Server) peer(c *conn) Peer {
	p := Peer{Node: s.cfg.NodeID, ID: c.id, User: c.client().Identity()}
	if c.ip != nil {
		p.IP = c.ip.addr
	}
	return p
}

// admit asks the backend about a handshake whose upgrade succeeded; resp is
// its 101 and rest what the client sent behind the request head.
func (s *Server) admit(c *conn, h *handshake, resp, rest []byte) {
	hdr := ConnectHeaders{Origin: string(h.origin), UserAgent: string(h.agent)}
	s.wait(c, true)
	ok := s.backend.Connect(s.peer(c), hdr, func(a Admission) {
		s.resumeWith(c, func() { s.admitted(c, a, resp, rest) })
	})
	if !ok {
		s.wait(c, false)
		s.refuseAdmission(c, Admission{Status: http.StatusServiceUnavailable, Info: "backend busy"})
	}
}

// admitted opens c as the backend said, or refuses it.
func (s *Server) admitted(c *conn, a Admission, resp, rest []byte) {
	if a.Status != http.StatusOK {
		s.refuseAdmission(c, a)
		return
	}
	if c.isReleased() { // the client left while the backend decided
		s.ips.release(c.ip)
		s.backend.Closed(s.peer(c), 1006)
		return
	}
	s.metrics.handshake("ok")
	s.open(c, resp, a)
	if len(rest) > 0 {
		c.setPending(rest)
	}
}

// admitted joins a new connection to the rooms its Backend admission names
// and queues the admission's first frame, before the 101 is written.
func (a *App) admitted(c *conn, adm Admission) {
	if len(adm.Rooms) == 0 && adm.Param == nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.srv.ctx, storeOp)
	defer cancel()
	for _, r := range adm.Rooms {
		if err := a.JoinGroup(ctx, c.id, Room(r)); err != nil {
			a.srv.log.Warn("join a room the backend named", "conn", c.id, "room", r, "err", err)
		}
	}
	if adm.Param != nil {
		if f, err := NewFrame(Message{Status: StatusOK, Info: adm.Info, Param: adm.Param, Event: EventConnect}); err == nil {
			c.send(f.b)
		}
	}
}

func (s *Server) refuseAdmission(c *conn, a Admission) {
	status, label := http.StatusServiceUnavailable, "backend_failed"
	if a.Status == http.StatusForbidden {
		status, label = http.StatusForbidden, "backend_refused"
	}
	info := a.Info
	if info == "" {
		info = http.StatusText(status)
	}
	s.ips.release(c.ip)
	s.metrics.handshake(label)
	s.answer(c, status, info)
	s.drop(c)
}

// forward hands a request for a backend method to the backend; c reads
// nothing more until the reply is written, so its order is kept.
func (s *Server) forward(c *conn, method string, id json.RawMessage, msg []byte) {
	id = append(json.RawMessage(nil), id...)
	if len(id) == 0 {
		id = nil
	}
	s.wait(c, true)
	ok := s.backend.Call(s.peer(c), method, id, rawParams(msg), func(r BackendReply) {
		s.resumeWith(c, func() {
			var param any
			if r.Param != nil {
				param = r.Param
			}
			s.metrics.status(r.Status)
			if f, err := NewFrame(Message{Status: r.Status, Info: r.Info, Param: param, Event: method, ID: id}); err == nil {
				c.send(f.b)
			}
		})
	})
	if !ok {
		s.wait(c, false)
		s.reply(c, StatusUnavailable, "backend busy", method, id)
	}
}
