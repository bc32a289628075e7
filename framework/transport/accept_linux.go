package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Accepting happens on the poller too: the listening socket is a raw fd in
// the same epoll (level-triggered), accept4 hands back a non-blocking socket
// that never enters Go's runtime poller, and its request head is read by the
// workers as it arrives. No goroutine waits on a socket at any point, and a
// client that stalls mid-handshake costs its bytes until the sweep drops it.

// maxAcceptsPerWake bounds the accepts of one readiness event, so the poller
// also serves the connections it already has; the listener stays ready and
// fires again.
const maxAcceptsPerWake = 128

// listener is a listening socket the server accepts from: its own duplicate
// of the caller's fd, so the caller may close its net.Listener at any time.
type listener struct {
	fd      int
	nodelay bool   // TCP_NODELAY is set on the listener: accepted sockets inherit it
	ready   func() // accepts what is pending
}

func (l *listener) onEvent(uint32) { l.ready() }

// acceptor owns the listeners and the connections still handshaking.
type acceptor[S any] struct {
	mu        sync.Mutex
	stopped   bool
	listeners []*listener
	done      chan struct{} // closed when accepting stops
	spare     int           // an fd kept for shedding a connection at EMFILE

	shakeMu sync.Mutex
	shaking map[*Conn[S]]struct{}
}

// Serve accepts connections on ln until StopAccepting or Stop; it returns
// nil then. The server accepts on its own duplicate of ln's socket, so the
// caller may close ln at any time; accepting goes on until Stop.
func (s *Server[S]) Serve(ln net.Listener) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return errors.New("transport: listener has no file descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("transport: listener: %w", err)
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(f uintptr) { fd, dupErr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil || dupErr != nil {
		return fmt.Errorf("transport: duplicate listener fd: %w", errors.Join(err, dupErr))
	}
	// Accepting is a raw system call: the socket must not block. Replies
	// are small and written whole, so Nagle would only add latency; set on
	// the listener, TCP_NODELAY is inherited by every accepted socket, which
	// saves a system call per connection.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return fmt.Errorf("transport: listener: %w", err)
	}
	l := &listener{fd: fd, nodelay: unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1) == nil}
	l.ready = func() { s.accept(l) }
	a := &s.acceptor
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		unix.Close(fd)
		return nil
	}
	a.listeners = append(a.listeners, l)
	err = s.poller.add(fd, listenEvents, l)
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("transport: poll listener: %w", err)
	}
	<-a.done
	return nil
}

// StopAccepting stops every Serve: no connection is accepted after it
// returns, and the listeners' duplicates are closed. Connections already
// accepted finish their handshake. Stop calls it.
func (s *Server[S]) StopAccepting() {
	a := &s.acceptor
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	a.stopped = true
	for _, l := range a.listeners {
		s.poller.del(l.fd)
		unix.Close(l.fd)
	}
	a.listeners = nil
	close(a.done)
}

// accept takes pending connections from l; it runs on the poller goroutine.
func (s *Server[S]) accept(l *listener) {
	a := &s.acceptor
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	for range maxAcceptsPerWake {
		fd, peer, err := sockAccept(l.fd)
		switch {
		case err == nil:
		case err == unix.EAGAIN:
			return
		case err == unix.EINTR || err == unix.ECONNABORTED:
			continue
		case err == unix.EMFILE || err == unix.ENFILE:
			s.shed(l)
			return
		default:
			s.log.Warn("accept failed", "err", err)
			return
		}
		if s.handshaking() >= s.cfg.MaxConnections {
			s.metrics.handshake("overloaded")
			unix.Close(fd)
			continue
		}
		if !l.nodelay {
			unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		}
		c := &Conn[S]{
			id:       ConnID(s.nextID.Add(1)),
			fd:       int32(fd),
			srv:      s,
			in:       &inbound[S]{peer: peer},
			starting: true,
			shakeAt:  s.now(),
		}
		c.lastSeen.Store(s.now())
		a.shakeMu.Lock()
		a.shaking[c] = struct{}{}
		a.shakeMu.Unlock()
		if err := s.poller.add(fd, connEvents, c); err != nil {
			s.log.Warn("poll accepted socket", "err", err)
			s.forget(c)
			unix.Close(fd)
		}
	}
}

// spareFD opens the fd kept for shedding; -1 if it cannot.
func spareFD() int {
	fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// shed is the answer to running out of fds while connections wait: the
// spare fd is given up to accept one and close it, so clients are refused
// at once instead of the listener firing in a loop.
func (s *Server[S]) shed(l *listener) {
	a := &s.acceptor
	s.log.Warn("out of file descriptors: refusing connections")
	if a.spare > 0 {
		unix.Close(a.spare)
		if fd, _, err := unix.Accept4(l.fd, unix.SOCK_CLOEXEC); err == nil {
			unix.Close(fd)
		}
	}
	a.spare = spareFD()
}

// handshaking returns how many accepted connections have not finished their
// handshake.
func (s *Server[S]) handshaking() int {
	a := &s.acceptor
	a.shakeMu.Lock()
	defer a.shakeMu.Unlock()
	return len(a.shaking)
}

func (s *Server[S]) forget(c *Conn[S]) {
	a := &s.acceptor
	a.shakeMu.Lock()
	delete(a.shaking, c)
	a.shakeMu.Unlock()
}

// eachShaking calls fn for every handshaking connection, without the lock.
func (s *Server[S]) eachShaking(fn func(*Conn[S])) {
	a := &s.acceptor
	a.shakeMu.Lock()
	cs := make([]*Conn[S], 0, len(a.shaking))
	for c := range a.shaking {
		cs = append(cs, c)
	}
	a.shakeMu.Unlock()
	for _, c := range cs {
		fn(c)
	}
}

// open registers a connection whose upgrade succeeded, then writes its 101:
// frames pushed to it meanwhile wait in its queue, so a push sent the moment
// the client sees its 101 reaches it, after the 101. It runs on the
// connection's worker, so Options.Open runs before its first message.
func (s *Server[S]) open(c *Conn[S], resp []byte) {
	s.forget(c)
	c.mu.Lock()
	c.shakeAt = 0
	c.mu.Unlock()
	s.inflight.Add(1)
	s.conns.add(c)
	if s.onOpen != nil {
		s.onOpen(c)
	}
	s.metrics.opened()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateReleased {
		return // gone while registering: Closed runs on this worker next
	}
	// Written even if a connect function closed it: the client then reads
	// its 101 and the close frame queued behind it.
	n, err := sockWrite(c.fd, resp)
	if n < len(resp) && (err == nil || err == unix.EAGAIN) {
		o := c.outbox()
		o.wq = append([][]byte{bytes.Clone(resp[max(n, 0):])}, o.wq...) // resp is pooled
		o.bytes += len(resp) - max(n, 0)
	}
	c.starting = false
	c.flushLocked()
}

// drop closes a connection that never opened: no hooks, nothing registered.
func (s *Server[S]) drop(c *Conn[S]) {
	s.forget(c)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateReleased {
		return
	}
	c.state = stateReleased
	s.closeSocket(int(c.fd))
	c.in = nil
}

// handOff gives a plain HTTP request to net/http with what was read of it.
func (s *Server[S]) handOff(c *Conn[S]) {
	read := c.pending()
	s.forget(c)
	c.mu.Lock()
	c.state = stateReleased
	s.poller.del(int(c.fd))
	f := os.NewFile(uintptr(c.fd), "http")
	c.mu.Unlock()
	nc, err := net.FileConn(f) // its own fd, in Go's poller: pages are rare
	f.Close()
	c.in = nil
	if err != nil {
		s.log.Warn("hand off HTTP request", "err", err)
		return
	}
	s.http.serve(nc, read)
}
