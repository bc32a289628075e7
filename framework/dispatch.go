package framework

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"msgo/framework/internal/jsonscan"
)

// requestEnvelope finds a message's method and id among its top-level members
// without decoding the rest: keys are matched exactly as written. It returns
// the method unquoted (escapes still raw), the id as sent, and what is wrong
// with the envelope, if anything.
func requestEnvelope(msg []byte) (method, id []byte, problem string) {
	if !jsonscan.Valid(msg) {
		return nil, nil, "message is not valid JSON"
	}
	err := jsonscan.Members(msg, func(k, v []byte) bool {
		switch string(k) {
		case "method":
			method = v
		case "id":
			id = v
		}
		return true
	})
	if err != nil {
		return nil, nil, "message must be a JSON object"
	}
	if len(id) > 0 && !validID(id) {
		return nil, nil, "id must be a string or a number"
	}
	if bytes.Equal(id, []byte("null")) {
		id = nil
	}
	switch {
	case method == nil:
		return nil, id, "method is required"
	case method[0] != '"':
		return nil, id, "method must be a string"
	case len(method) == 2:
		return nil, id, "method is required"
	}
	return method[1 : len(method)-1], id, ""
}

// lowerMethod lower-cases an ASCII method into buf, decoding JSON escapes the
// rare way; the result is valid until buf is reused.
func lowerMethod(raw []byte, buf []byte) []byte {
	if bytes.IndexByte(raw, '\\') >= 0 {
		var m string
		json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &m)
		return []byte(strings.ToLower(m))
	}
	out := buf[:0]
	for _, c := range raw {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return out
}

// dispatch answers one message of c. It runs on c's worker, so c's messages
// are handled one at a time in arrival order. msg is borrowed.
func (s *Server) dispatch(c *conn, msg []byte) {
	if !s.work.enter() {
		return // stopping: messages read from now on are not handled
	}
	defer s.work.leave()
	raw, id, problem := requestEnvelope(msg)
	if problem != "" {
		s.badRequest(c, problem, "error", id)
		return
	}
	var buf [64]byte
	lower := lowerMethod(raw, buf[:])
	rt := s.router.routes[string(lower)]
	if !c.Session().bucket.allow(s.cfg.RateLimit, s.nowMS()) {
		s.metrics.rateLimited()
		s.reply(c, StatusTooMany, "rate limit exceeded", eventOf(rt, lower), id)
		return
	}
	if string(lower) == "ping" {
		s.metrics.status(StatusOK)
		f, _ := NewFrame(Message{Status: StatusOK, Info: "pong", Param: pong{time.Now().UnixMilli()}, Event: "pong", ID: id})
		c.Send(f.b)
		return
	}
	if s.cfg.ResumeWindow > 0 {
		switch string(lower) {
		case methodSessionOpen:
			s.openSession(c, id)
			return
		case methodSessionResume:
			s.resumeSession(c, msg, id)
			return
		}
	}
	if rt == nil && s.backend != nil && s.backend.Forwards(string(lower)) {
		s.forward(c, string(lower), id, msg)
		return
	}
	if rt == nil {
		method := string(lower)
		s.reply(c, StatusNotFound, "unknown method "+method, method, id)
		return
	}
	method := rt.Method
	ctx := contexts.Get().(*Context)
	ctx.ctx, ctx.srv, ctx.app, ctx.conn, ctx.method, ctx.id, ctx.raw = s.ctx, s, s.app, c, method, id, msg
	err := rt.h(ctx)
	switch {
	case err != nil && !ctx.replied:
		status, info := errorStatus(err, s.unavail)
		if status >= StatusInternal {
			s.log.Error("handler failed", "method", method, "conn", c.ID(), "err", err)
		}
		s.reply(c, status, info, method, id)
	case err != nil:
		s.log.Error("handler failed after replying", "method", method, "conn", c.ID(), "err", err)
	case !ctx.replied:
		s.reply(c, StatusOK, "", method, id)
	}
	ctx.reset()
	contexts.Put(ctx)
}

type pong struct {
	Time int64 `json:"time"`
}

func (s *Server) reply(c *conn, status int, info, event string, id json.RawMessage) {
	s.metrics.status(status)
	f, err := NewFrame(Message{Status: status, Info: info, Event: event, ID: id})
	if err == nil {
		c.Send(f.b)
	}
}

// eventOf is the event of a reply to a method: the route's own lower-cased
// name, or a new string for a method no route has.
func eventOf(rt *route, lower []byte) string {
	if rt != nil {
		return rt.Method
	}
	return string(lower)
}

func (s *Server) badRequest(c *conn, info, event string, id json.RawMessage) {
	s.reply(c, StatusBadRequest, info, event, id)
}

// validID reports whether a raw id is a JSON string, number or null.
func validID(id json.RawMessage) bool {
	switch c := id[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	}
	return bytes.Equal(id, []byte("null"))
}

// ping draws a ping frame on the connection's rate limit: it costs a write
// as a message does. Over the limit the answer is the 429 a message gets
// (event "ping", no pong) and the connection stays.
func (s *Server) ping(c *conn) bool {
	if c.Session().bucket.allow(s.cfg.RateLimit, s.nowMS()) {
		return true
	}
	s.metrics.rateLimited()
	s.reply(c, StatusTooMany, "rate limit exceeded", "ping", nil)
	return false
}
