package transport

import "errors"

// ErrClosed is returned by a write to a connection whose close began.
var ErrClosed = errors.New("transport: connection gone")
