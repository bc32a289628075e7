package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
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
}

// Stream starts a streamed answer whose frames have event; the request then
// gets no single reply. It returns nil and ErrConnGone if the connection is
// already closing.
func (c *Context) Stream(event string) (*Stream, error) {
	ctx, cancel := context.WithCancel(c.ctx)
	st := &Stream{conn: c.conn, id: bytes.Clone(c.id), event: event, ctx: ctx, cancel: cancel}
	if !editHooks(c.conn, func(h *hooks) { h.streams = append(h.streams, st) }) {
		cancel()
		return nil, ErrConnGone
	}
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

// Close ends the stream.
func (st *Stream) Close() {
	st.cancel()
	c := st.conn
	c.mu.Lock()
	if c.hooks != nil {
		c.hooks.streams = slices.DeleteFunc(c.hooks.streams, func(x *Stream) bool { return x == st })
	}
	c.mu.Unlock()
}
