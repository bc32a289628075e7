package framework

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"msgo/framework/internal/wsframe"
)

// Message is one server frame's JSON object (docs/protocol.md, "Frames from the server").
type Message struct {
	Status int
	Info   string
	Param  any             // nil encodes as {}
	Event  string          // the lower-cased method for a reply, the push name for a push
	ID     json.RawMessage // the request's id, verbatim; nil for a push
}

// Frame is a message encoded once as a whole WebSocket frame, ready to be
// written to any number of connections. A room push of 10,000 connections
// costs one Frame. A Frame is immutable and safe to share.
type Frame struct{ b []byte }

// Bytes returns the encoded WebSocket frame; the caller must not modify it.
func (f *Frame) Bytes() []byte { return f.b }

// Payload returns the JSON text inside the frame (the first one, for a
// Frame made by Concat).
func (f *Frame) Payload() []byte {
	n, h := int(f.b[1]&0x7f), 2
	switch n {
	case 126:
		n, h = int(binary.BigEndian.Uint16(f.b[2:])), 4
	case 127:
		n, h = int(binary.BigEndian.Uint64(f.b[2:])), 10
	}
	return f.b[h : h+n]
}

// Concat returns a Frame holding fs back to back, in order. Sending it
// writes all of them to each connection at once, and the client reads them
// as len(fs) separate messages: a module pushing a run of messages to a
// large group (live.message under load) pays one write per connection per
// run instead of one per message.
func Concat(fs ...*Frame) *Frame {
	if len(fs) == 1 {
		return fs[0]
	}
	n := 0
	for _, f := range fs {
		n += len(f.b)
	}
	b := make([]byte, 0, n)
	for _, f := range fs {
		b = append(b, f.b...)
	}
	return &Frame{b: b}
}

// Push returns the frame of a push: status 200, no id.
func Push(event string, param any) (*Frame, error) {
	return NewFrame(Message{Status: StatusOK, Event: event, Param: param})
}

type encoder struct {
	buf   bytes.Buffer
	enc   *json.Encoder
	frame []byte // a reply's whole frame, written from here when the socket takes it
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false) // content is stored and pushed verbatim
	return e
}}

// maxPooled bounds the buffers an encoder keeps for the next message, so one
// huge message does not stay pinned in the pool.
const maxPooled = 64 << 10

func getEncoder() *encoder { return encoders.Get().(*encoder) }

func (e *encoder) release() {
	if e.buf.Cap() > maxPooled || cap(e.frame) > maxPooled {
		return
	}
	encoders.Put(e)
}

// NewFrame encodes m as a text frame.
func NewFrame(m Message) (*Frame, error) {
	e := getEncoder()
	defer e.release()
	p, err := e.payload(m)
	if err != nil {
		return nil, err
	}
	return &Frame{b: wsframe.Build(wsframe.OpText, p)}, nil
}

// textFrame encodes m as a text frame in e's own buffer, valid until e is
// released: a reply written at once needs no allocation.
func (e *encoder) textFrame(m Message) ([]byte, error) {
	p, err := e.payload(m)
	if err != nil {
		return nil, err
	}
	e.frame = wsframe.Append(e.frame[:0], wsframe.OpText, p)
	return e.frame, nil
}

// payload encodes m's JSON object into e.buf.
func (e *encoder) payload(m Message) ([]byte, error) {
	e.buf.Reset()
	b := e.buf.AvailableBuffer()
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(m.Status), 10)
	b = append(b, `,"info":`...)
	b = appendString(b, m.Info)
	b = append(b, `,"param":`...)
	e.buf.Write(b)
	switch p := m.Param.(type) {
	case nil:
		e.buf.WriteString("{}")
	case json.RawMessage:
		if len(p) == 0 {
			p = json.RawMessage("{}")
		}
		e.buf.Write(p)
	default:
		if err := e.enc.Encode(p); err != nil {
			return nil, fmt.Errorf("framework: encode param of %q: %w", m.Event, err)
		}
		e.buf.Truncate(e.buf.Len() - 1) // Encode ends with a newline
	}
	b = e.buf.AvailableBuffer()
	b = append(b, `,"event":`...)
	b = appendString(b, m.Event)
	if len(m.ID) > 0 {
		b = append(b, `,"id":`...)
		b = append(b, m.ID...)
	}
	b = append(b, '}')
	e.buf.Write(b)
	return e.buf.Bytes(), nil
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
