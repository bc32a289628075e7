package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"msgo/framework/internal/jsonscan"
)

// Context is one request as a handler sees it: the method, the id to echo, the
// parameters and the client that sent it. It is valid only until the handler
// returns; Raw and ID are borrowed from the read buffer. A handler that keeps
// working after it returns (a stream) copies what it needs first.
type Context struct {
	ctx     context.Context
	srv     *Server
	app     *App
	conn    *conn
	method  string
	id      json.RawMessage
	raw     []byte
	params  map[string]json.RawMessage
	replied bool
	start   time.Time // when the handler chain began (see Metrics.observe)
}

var contexts = sync.Pool{New: func() any { return new(Context) }}

func (c *Context) reset() {
	*c = Context{}
}

// Context returns the server's lifetime context: it is cancelled when the
// server stops.
func (c *Context) Context() context.Context { return c.ctx }

// App returns the App handle.
func (c *Context) App() *App { return c.app }

// Client returns the connection that sent the request.
func (c *Context) Client() Client { return Client{c: c.conn} }

// Method returns the lower-cased method.
func (c *Context) Method() string { return c.method }

// ID returns the request's id as sent (a JSON string or number), or nil.
// Borrowed: copy it to keep it.
func (c *Context) ID() json.RawMessage { return c.id }

// Raw returns the whole request object. Borrowed: copy it to keep it.
func (c *Context) Raw() []byte { return c.raw }

// Params returns the request's parameters: every top-level key but method and id.
func (c *Context) Params() (map[string]json.RawMessage, error) {
	if c.params == nil {
		if err := json.Unmarshal(c.raw, &c.params); err != nil {
			return nil, Errorf(StatusBadRequest, "params: %v", err)
		}
		delete(c.params, "method")
		delete(c.params, "id")
	}
	return c.params, nil
}

// Bind decodes the request's parameters into v (a pointer to a struct with
// json tags). A parameter of the wrong type answers 400 naming it.
func (c *Context) Bind(v any) error {
	err := json.Unmarshal(c.raw, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field != "":
		return Errorf(StatusBadRequest, "param %s must be %s", te.Field, jsonKind(te.Type.Kind().String()))
	default:
		return Errorf(StatusBadRequest, "bad params: %v", err)
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	default:
		return "an object"
	}
}

// Success answers the request with status 200.
func (c *Context) Success(info string, param any) error {
	return c.Reply(StatusOK, info, param)
}

// Reply answers the request with any status. A request gets one reply; a
// second one is an error.
func (c *Context) Reply(status int, info string, param any) error {
	if c.replied {
		return fmt.Errorf("framework: %s answered twice", c.method)
	}
	c.replied = true
	e := getEncoder()
	defer e.release()
	b, err := e.textFrame(Message{Status: status, Info: info, Param: param, Event: c.method, ID: c.id})
	if err != nil {
		return err
	}
	c.srv.metrics.status(status)
	c.conn.SendBorrowed(b)
	return nil
}

// RawParams returns the request's parameters as a JSON object, as sent:
// every top-level member but method and id, without decoding them. Handlers
// that pass parameters through (an echo, a relay) avoid a decode and an
// encode. The result is a copy the handler may keep.
func (c *Context) RawParams() json.RawMessage { return rawParams(c.raw) }

// rawParams copies every top-level member of msg but method and id into a
// new JSON object.
func rawParams(msg []byte) json.RawMessage {
	out := make([]byte, 0, len(msg))
	out = append(out, '{')
	jsonscan.Members(msg, func(k, v []byte) bool {
		if string(k) == "method" || string(k) == "id" {
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, k...)
		out = append(out, '"', ':')
		out = append(out, v...)
		return true
	})
	return append(out, '}')
}
