package framework

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The built-in methods of resumable sessions (see docs/sessions.md).
const (
	methodSessionOpen   = "sys.session.open"
	methodSessionResume = "sys.session.resume"
)

// resumable is what a connection that opened a session keeps in its hooks:
// the session's id and, while its socket is lost, the timer that ends it.
type resumable struct {
	id       string
	home     string // set once it moved: the node that accepted it (see Addr)
	detached bool
	until    time.Time // while detached: when the window ends
	expiry   *time.Timer
}

// detached reports whether h is a session's whose socket is lost.
func detached(h *hooks) bool { return h.resume != nil && h.resume.detached }

// homeOf returns the node part of the address of a connection with hooks
// h on node: the node that accepted it, wherever it moved since.
func homeOf(h *hooks, node string) string {
	if h != nil && h.resume != nil && h.resume.home != "" {
		return h.resume.home
	}
	return node
}

// sessions are this node's resumable sessions by id.
type sessions struct {
	mu       sync.Mutex
	byID     map[string]*conn
	detached atomic.Int64 // sessions whose socket is lost
}

// DetachedSessions returns how many sessions on this node wait for a
// resume.
func (s *Server) DetachedSessions() int { return int(s.sessions.detached.Load()) }

func (ss *sessions) get(id string) *conn {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.byID[id]
}

func (ss *sessions) put(id string, c *conn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byID == nil {
		ss.byID = make(map[string]*conn)
	}
	ss.byID[id] = c
}

func (ss *sessions) forget(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

// newSessionID returns 128 random bits from crypto/rand, in hex.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

type sessionOpened struct {
	Session string `json:"session"`
	Window  int    `json:"window"`
}

// openSession answers sys.session.open: c becomes resumable, and every
// frame after this reply is numbered. A second open answers the same
// session.
func (s *Server) openSession(c *conn, id json.RawMessage) {
	var r *resumable
	if !editHooks(c, func(h *hooks) {
		if h.resume == nil {
			h.resume = &resumable{id: newSessionID()}
		}
		r = h.resume
	}) {
		return
	}
	s.sessions.put(r.id, c)
	s.metrics.status(StatusOK)
	f, err := NewFrame(Message{Status: StatusOK, Event: methodSessionOpen, ID: id,
		Param: sessionOpened{Session: r.id, Window: int(s.cfg.ResumeWindow / time.Second)}})
	if err != nil {
		return
	}
	if c.StartReplay(f.b, s.cfg.ResumeBufferBytes) == nil {
		s.metrics.sessionOpened()
	}
}

type resumeParams struct {
	Session string  `json:"session"`
	N       *uint64 `json:"n"`
}

type resumeAnswer struct {
	Resumed  bool    `json:"resumed"`
	Received *uint64 `json:"received,omitempty"`
}

// resumeSession answers sys.session.resume on c, a new connection: when the
// session is here and c's user owns it, c's socket takes the session's place
// (see transport.Server.ResumeSession) and c itself ends quietly.
func (s *Server) resumeSession(c *conn, msg []byte, id json.RawMessage) {
	var p resumeParams
	if json.Unmarshal(msg, &p) != nil || p.Session == "" || p.N == nil {
		s.badRequest(c, "session (string) and n (number) are required", methodSessionResume, id)
		return
	}
	if c.IsResumable() {
		s.badRequest(c, "this connection is a session already", methodSessionResume, id)
		return
	}
	old := s.sessions.get(p.Session)
	if old == nil {
		// The move waits on other nodes: c reads nothing meanwhile and
		// holds no worker.
		c.Pause()
		go s.resumeRemote(c, p.Session, *p.N, bytes.Clone(id))
		return
	}
	if userOf(old) != userOf(c) {
		s.metrics.sessionRefused("user")
		s.reply(c, StatusForbidden, "session belongs to another user", methodSessionResume, id)
		return
	}
	s.adoptSession(c, old, *p.N, bytes.Clone(id)) // the answer is built later, on old's worker: msg is borrowed
}

// adoptSession makes c, a new connection, go on as old, a session on this
// node, from frame n on; id is the resume's id, c's to keep.
func (s *Server) adoptSession(c, old *conn, n uint64, id json.RawMessage) {
	s.tr.ResumeSession(c, old, n, func(ok bool, received uint64) []byte {
		if !ok {
			s.metrics.sessionRefused("gone")
			return resumeFrame(id, resumeAnswer{})
		}
		old.Edit(func(ss *session, _ bool) {
			if h := ss.hooks; h != nil && h.resume != nil && h.resume.detached {
				s.sessions.detached.Add(-1)
				h.resume.detached = false
				if t := h.resume.expiry; t != nil {
					t.Stop()
				}
			}
		})
		s.closed(c) // c's own hooks (a connect function's) end with it
		s.metrics.sessionResumed()
		return resumeFrame(id, resumeAnswer{Resumed: true, Received: &received})
	})
}

func (s *Server) answerResume(c *conn, id json.RawMessage, a resumeAnswer) {
	s.metrics.status(StatusOK)
	c.Send(resumeFrame(id, a))
}

func resumeFrame(id json.RawMessage, a resumeAnswer) []byte {
	f, err := NewFrame(Message{Status: StatusOK, Event: methodSessionResume, ID: id, Param: a})
	if err != nil {
		panic(err) // a fixed shape always encodes
	}
	return f.b
}

// detached starts the window of a session whose socket was lost.
func (s *Server) detached(c *conn) {
	c.Edit(func(ss *session, _ bool) {
		if h := ss.hooks; h != nil && h.resume != nil {
			s.sessions.detached.Add(1)
			h.resume.detached = true
			h.resume.until = time.Now().Add(s.cfg.ResumeWindow)
			h.resume.expiry = time.AfterFunc(s.cfg.ResumeWindow, c.Expire)
		}
	})
}

// sessionClosed forgets a session whose connection closed, counting an
// expiry when it closed detached.
func (s *Server) sessionClosed(r *resumable) {
	if s.forgetSession(r) {
		s.metrics.sessionExpired()
	}
}

// forgetSession forgets a session that ended or moved to another node and
// reports whether it was detached.
func (s *Server) forgetSession(r *resumable) bool {
	s.sessions.forget(r.id)
	if r.expiry != nil {
		r.expiry.Stop()
	}
	if r.detached {
		s.sessions.detached.Add(-1)
	}
	return r.detached
}

// stamp adds "n":n first in payload, a JSON object, appending to dst.
func stamp(dst, payload []byte, n uint64) []byte {
	if len(payload) < 2 || payload[0] != '{' {
		return append(dst, payload...)
	}
	dst = append(dst, `{"n":`...)
	dst = strconv.AppendUint(dst, n, 10)
	rest := payload[1:]
	if len(rest) > 0 && rest[0] != '}' {
		dst = append(dst, ',')
	}
	return append(dst, rest...)
}
