package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"msgo/library/cache"
)

// envelope is every answer's shape: {"code","message","data"}. code repeats
// the HTTP status, for clients that only look at the body.
type envelope struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// Error is a failed call: the HTTP status, a message for the caller, and
// optionally data (a partial push answers the connections it did reach).
type Error struct {
	Status  int
	Message string
	Data    any
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

var errTooLarge = errorf(http.StatusRequestEntityTooLarge, "body: over %d bytes", MaxBodyBytes)

// empty is the data of an answer that has none: {} rather than null, so
// that clients can always index data.
var empty = struct{}{}

func writeJSON(w http.ResponseWriter, status int, msg string, data any) {
	if data == nil {
		data = empty
	}
	b, err := json.Marshal(envelope{Code: status, Message: msg, Data: data})
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(envelope{Code: status, Message: "encode answer: " + err.Error(), Data: empty})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *Error) { writeJSON(w, e.Status, e.Message, e.Data) }

// fail turns an endpoint's error into an answer: an *Error as it is, a store
// that cannot be reached 503, anything else 500.
func (m *Manager) fail(r *http.Request, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var data any
	var p *partial
	if errors.As(err, &p) {
		data = delivered{Delivered: p.n}
	}
	if errors.Is(err, cache.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		m.log.Warn("manager call failed: store unavailable", "path", r.URL.Path, "err", err)
		return &Error{Status: http.StatusServiceUnavailable, Message: "service unavailable: " + err.Error(), Data: data}
	}
	m.log.Error("manager call failed", "path", r.URL.Path, "err", err)
	return &Error{Status: http.StatusInternalServerError, Message: "internal error: " + err.Error(), Data: data}
}

// partial wraps the error of a push that reached n connections before it
// failed, so that the answer can still say how many.
type partial struct {
	n   int
	err error
}

func (p *partial) Error() string { return p.err.Error() }
func (p *partial) Unwrap() error { return p.err }
