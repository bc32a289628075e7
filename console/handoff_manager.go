package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// heldListener is the manager's listener as its http.Server sees it. A
// reload holds it: no connection is accepted (they wait in the kernel's
// backlog for whichever process serves next), and hold returns once every
// request already accepted was answered. http.Server.Shutdown cannot do
// this: a connection it accepted just before drops its request unanswered.
type heldListener struct {
	*net.TCPListener
	closing atomic.Bool // replies close their connections: see closeAfterReplies
	mu      sync.Mutex
	held    chan struct{} // non-nil while held; closed by release
	parked  chan struct{} // Accept waits on held: nothing is being accepted
	conns   map[net.Conn]http.ConnState
	change  chan struct{} // signalled on every state change
}

func newHeldListener(ln *net.TCPListener) *heldListener {
	return &heldListener{TCPListener: ln, conns: make(map[net.Conn]http.ConnState), change: make(chan struct{}, 1), parked: make(chan struct{}, 1)}
}

// Accept waits while the listener is held.
func (l *heldListener) Accept() (net.Conn, error) {
	for {
		c, err := l.TCPListener.Accept()
		if err == nil {
			// Counted before the server sees it, so a hold that begins
			// now waits for its request.
			l.mu.Lock()
			l.conns[c] = http.StateNew
			l.mu.Unlock()
			return c, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, err
		}
		l.mu.Lock()
		held := l.held
		l.mu.Unlock()
		if held != nil {
			select {
			case l.parked <- struct{}{}:
			default:
			}
			<-held
		}
	}
}

// handler wraps the manager's handler: while closeAfterReplies is on,
// every reply closes its connection.
func (l *heldListener) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.closing.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// closeAfterReplies turns keep-alives off (on) for what is answered from
// now on. Unlike http.Server.SetKeepAlivesEnabled it does not close the
// idle connections at once: closing one races a request its client sends
// on it at that moment, so they are left to hold, which a client that
// calls often never leaves idle.
func (l *heldListener) closeAfterReplies(on bool) { l.closing.Store(on) }

// track is the http.Server's ConnState hook.
func (l *heldListener) track(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	if st == http.StateClosed || st == http.StateHijacked {
		delete(l.conns, c)
	} else {
		l.conns[c] = st
	}
	l.mu.Unlock()
	select {
	case l.change <- struct{}{}:
	default:
	}
}

// hold stops accepting, then waits until no accepted connection has a
// request to come or in progress, ending idle ones, or until ctx ends.
// closeAfterReplies must be on by then, so a connection is closed once it
// was answered.
func (l *heldListener) hold(ctx context.Context) {
	l.mu.Lock()
	l.held = make(chan struct{})
	l.mu.Unlock()
	l.SetDeadline(time.Unix(1, 0))
	select { // a connection being accepted now is counted first
	case <-l.parked:
	case <-ctx.Done():
	}
	for {
		busy := false
		l.mu.Lock()
		for c, st := range l.conns {
			// An idle connection may have a request read this instant, its
			// state not yet active. Shutting its read side ends it if not
			// (the server reads EOF and closes it: the caller sees it closed
			// and nothing was done), and if so lets that request be
			// answered, its handler run to the end before the pause:
			// never a push done whose caller sees no answer.
			if st == http.StateIdle {
				if tc, ok := c.(*net.TCPConn); ok {
					tc.CloseRead()
				} else {
					c.Close()
				}
			}
			busy = true
		}
		l.mu.Unlock()
		if !busy {
			return
		}
		select {
		case <-l.change:
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// release undoes hold.
func (l *heldListener) release() {
	l.SetDeadline(time.Time{})
	select {
	case <-l.parked:
	default:
	}
	l.mu.Lock()
	if l.held != nil {
		close(l.held)
		l.held = nil
	}
	l.mu.Unlock()
}
