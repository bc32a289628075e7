package framework

import (
	"errors"
	"fmt"
)

// Error is a reply status with its message: what a handler returns to answer
// a request with something other than 200. The connection stays open.
type Error struct {
	Status int
	Info   string
}

func (e *Error) Error() string { return fmt.Sprintf("status %d: %s", e.Status, e.Info) }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Info: fmt.Sprintf(format, args...)}
}

// Reply statuses of the msgo protocol (docs/protocol.md, "Statuses").
const (
	StatusOK          = 200
	StatusBadRequest  = 400
	StatusForbidden   = 403
	StatusNotFound    = 404
	StatusTooMany     = 429
	StatusInternal    = 500
	StatusUnavailable = 503
)

// ErrConnGone is returned by operations on a connection that has closed or
// never existed on this node.
var ErrConnGone = errors.New("framework: connection gone")

// errorStatus maps a handler's error to a reply: an *Error keeps its status,
// an error that wraps one of unavailable answers 503, anything else 500.
func errorStatus(err error, unavailable []error) (int, string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, e.Info
	}
	for _, u := range unavailable {
		if errors.Is(err, u) {
			return StatusUnavailable, "service unavailable, try again"
		}
	}
	return StatusInternal, "internal error"
}

// Close codes a caller of Server.Stop or App.Close uses (docs/protocol.md, "Close codes").
const (
	CloseNormal         = 1000
	CloseGoingAway      = 1001
	ClosePolicy         = 1008
	CloseServiceRestart = 1012
)
