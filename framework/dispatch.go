package framework

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// request is the envelope of a client message; everything else is params.
type request struct {
	Method *string         `json:"method"`
	ID     json.RawMessage `json:"id"`
}

// dispatch answers one message of c. It runs on c's worker, so c's messages
// are handled one at a time in arrival order. msg is borrowed.
func (s *Server) dispatch(c *conn, msg []byte) {
	var req request
	if err := json.Unmarshal(msg, &req); err != nil {
		var te *json.UnmarshalTypeError
		var id json.RawMessage
		if errors.As(err, &te) && te.Field != "" && len(req.ID) > 0 && validID(req.ID) {
			id = req.ID // a field of the wrong type: the id is still good to echo
		}
		s.badRequest(c, decodeError(err), "error", id)
		return
	}
	id := req.ID
	if len(id) > 0 && !validID(id) {
		s.badRequest(c, "id must be a string or a number", "error", nil)
		return
	}
	if bytes.Equal(id, []byte("null")) {
		id = nil
	}
	if req.Method == nil || *req.Method == "" {
		s.badRequest(c, "method is required", "error", id)
		return
	}
	method := strings.ToLower(*req.Method)
	if !c.bucket.allow(s.cfg.RateLimit, s.nowMS()) {
		s.metrics.rateLimited()
		s.reply(c, StatusTooMany, "rate limit exceeded", method, id)
		return
	}
	if method == "ping" {
		s.metrics.status(StatusOK)
		f, _ := NewFrame(Message{Status: StatusOK, Info: "pong", Param: pong{time.Now().UnixMilli()}, Event: "pong", ID: id})
		c.send(f.b)
		return
	}
	rt := s.router.lookup(method)
	if rt == nil {
		s.reply(c, StatusNotFound, "unknown method "+method, method, id)
		return
	}
	ctx := contexts.Get().(*Context)
	ctx.ctx, ctx.app, ctx.conn, ctx.method, ctx.id, ctx.raw = s.ctx, s.app, c, method, id, msg
	err := rt.h(ctx)
	switch {
	case err != nil && !ctx.replied:
		status, info := errorStatus(err, s.unavail)
		if status >= StatusInternal {
			s.log.Error("handler failed", "method", method, "conn", c.id, "err", err)
		}
		s.reply(c, status, info, method, id)
	case err != nil:
		s.log.Error("handler failed after replying", "method", method, "conn", c.id, "err", err)
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
		c.send(f.b)
	}
}

func (s *Server) badRequest(c *conn, info, event string, id json.RawMessage) {
	s.reply(c, StatusBadRequest, info, event, id)
}

func decodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "message must be a JSON object"
		}
		return te.Field + " must be a string"
	}
	return "message is not valid JSON"
}

// validID reports whether a raw id is a JSON string, number or null.
func validID(id json.RawMessage) bool {
	switch c := id[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	}
	return bytes.Equal(id, []byte("null"))
}
