package framework

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"sync"

	"msgo/framework/cluster"
	"msgo/framework/transport"
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

// admissions hold the Backend's admission of each handshake it admitted,
// from its answer until the connection opens on its worker.
type admissions struct {
	mu sync.Mutex
	m  map[*conn]Admission
}

func (ad *admissions) put(c *conn, a Admission) {
	ad.mu.Lock()
	if ad.m == nil {
		ad.m = make(map[*conn]Admission)
	}
	ad.m[c] = a
	ad.mu.Unlock()
}

func (ad *admissions) take(c *conn) Admission {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	a := ad.m[c]
	delete(ad.m, c)
	return a
}

func (s *Server) peer(c *conn) Peer {
	return Peer{Node: s.cfg.NodeID, ID: c.ID(), IP: c.IP(), User: Client{c: c}.Identity()}
}

// nodeLost tells the Backend of a dead node this node purged.
func (s *Server) nodeLost(node string) {
	if s.backend != nil {
		s.backend.NodeLost(node)
	}
}

// admit asks the Backend about a handshake whose upgrade succeeded (the
// transport's Admit): the connection opens, or is refused, on its answer.
func (s *Server) admit(c *conn, h transport.Headers, done func(transport.Verdict)) {
	hdr := ConnectHeaders{Origin: h.Origin, UserAgent: h.UserAgent}
	ok := s.backend.Connect(s.peer(c), hdr, func(a Admission) {
		if a.Status != http.StatusOK {
			done(refusal(a))
			return
		}
		s.admits.put(c, a)
		done(transport.Verdict{Left: func() {
			s.admits.take(c)
			s.backend.Closed(s.peer(c), 1006)
		}})
	})
	if !ok {
		done(refusal(Admission{Status: http.StatusServiceUnavailable, Info: "backend busy"}))
	}
}

// refusal is the transport's verdict for an admission that is not a 200:
// 403 refuses with 403, anything else with 503.
func refusal(a Admission) transport.Verdict {
	if a.Status == http.StatusForbidden {
		return transport.Verdict{Status: http.StatusForbidden, Info: a.Info, Reason: "backend_refused"}
	}
	return transport.Verdict{Status: http.StatusServiceUnavailable, Info: a.Info, Reason: "backend_failed"}
}

// admitted joins a new connection to the rooms its Backend admission names
// and queues the admission's first frame, before the 101 is written.
func (a *App) admitted(c *conn, adm Admission) {
	if len(adm.Rooms) == 0 && adm.Param == nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.srv.ctx, cluster.StoreOp)
	defer cancel()
	for _, r := range adm.Rooms {
		if err := a.JoinGroup(ctx, c.ID(), Room(r)); err != nil {
			a.srv.log.Warn("join a room the backend named", "conn", c.ID(), "room", r, "err", err)
		}
	}
	if adm.Param != nil {
		if f, err := NewFrame(Message{Status: StatusOK, Info: adm.Info, Param: adm.Param, Event: EventConnect}); err == nil {
			c.Send(f.b)
		}
	}
}

// forward hands a request for a backend method to the backend; c reads
// nothing more until the reply is written, so its order is kept.
func (s *Server) forward(c *conn, method string, id json.RawMessage, msg []byte) {
	id = append(json.RawMessage(nil), id...)
	if len(id) == 0 {
		id = nil
	}
	c.Pause()
	ok := s.backend.Call(s.peer(c), method, id, rawParams(msg), func(r BackendReply) {
		c.Resume(func() {
			var param any
			if r.Param != nil {
				param = r.Param
			}
			s.metrics.status(r.Status)
			if f, err := NewFrame(Message{Status: r.Status, Info: r.Info, Param: param, Event: method, ID: id}); err == nil {
				c.Send(f.b)
			}
		})
	})
	if !ok {
		c.Resume(nil)
		s.reply(c, StatusUnavailable, "backend busy", method, id)
	}
}
