package framework

import (
	"bytes"
	"context"
	"encoding/json"
)

// Stream answers one request with several frames, sent after the handler
// returned (kefu.bot.ask streams an answer in chunks). Every frame carries
// the request's id. Its Context is cancelled when the connection closes or
// the server stops, so the producer stops; Close releases it when done.
// A Stream is safe for use by one goroutine at a time.
type Stream struct {
	conn   *conn
	id     json.RawMessage
	event  string
	ctx    context.Context
	cancel context.CancelFunc
	next   *Stream // the connection's next open stream, under conn.mu
}

// Stream starts a streamed answer whose frames have event; the request then
// gets no single reply. It returns nil and ErrConnGone if the connection is
// already closing.
func (c *Context) Stream(event string) (*Stream, error) {
	ctx, cancel := context.WithCancel(c.ctx)
	st := &Stream{conn: c.conn, id: bytes.Clone(c.id), event: event, ctx: ctx, cancel: cancel}
	if !editHooks(c.conn, func(h *hooks) { st.next, h.streams = h.streams, st }) {
		cancel()
		return nil, ErrConnGone
	}
	// The stream owes a reply until it leaves the connection's list (Close,
	// or the connection's close): a graceful stop waits for it.
	c.conn.srv.work.hold()
	c.replied = true
	return st, nil
}

// Context is done when the connection closed, the server stopped or Close
// was called.
func (st *Stream) Context() context.Context { return st.ctx }

// Send writes one frame of the answer: status 200, the stream's event, param
// and the request's id.
func (st *Stream) Send(param any) error {
	if err := st.ctx.Err(); err != nil {
		return ErrConnGone
	}
	f, err := NewFrame(Message{Status: StatusOK, Param: param, Event: st.event, ID: st.id})
	if err != nil {
		return err
	}
	return st.conn.send(f.b)
}

// Reply writes a frame of the answer with any status and info, as
// Context.Reply does: the one frame of an answer decided after the handler
// returned (live.message.send answers once its message is stored, without
// holding a worker while it waits).
func (st *Stream) Reply(status int, info string, param any) error {
	if err := st.ctx.Err(); err != nil {
		return ErrConnGone
	}
	f, err := NewFrame(Message{Status: status, Info: info, Param: param, Event: st.event, ID: st.id})
	if err != nil {
		return err
	}
	st.conn.srv.metrics.status(status)
	return st.conn.send(f.b)
}

// Fail answers with the status a handler returning err would get: an
// *Error's own, 503 for an unavailable dependency, else 500 (logged).
func (st *Stream) Fail(err error) error {
	srv := st.conn.srv
	status, info := errorStatus(err, srv.unavail)
	if status >= StatusInternal {
		srv.log.Error("handler failed", "event", st.event, "conn", st.conn.id, "err", err)
	}
	return st.Reply(status, info, nil)
}

// Close ends the stream.
func (st *Stream) Close() {
	st.cancel()
	c := st.conn
	c.mu.Lock()
	if c.hooks != nil {
		for p := &c.hooks.streams; *p != nil; p = &(*p).next {
			if *p == st {
				*p = st.next
				c.srv.work.leave()
				break
			}
		}
	}
	c.mu.Unlock()
}
