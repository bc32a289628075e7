package transport

import (
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller is the one epoll instance of a Server: every connection's raw fd
// and the listeners, edge-triggered for read and write (the listeners
// level-triggered).
//
// The epoll fd itself sits in Go's runtime poller: it is readable while
// events wait, so the goroutines serving it wait for it as Go's own sockets
// do, and an idle server blocks in one epoll_pwait, the runtime's. Several
// goroutines (the handler pool) take turns: one waits for the epoll fd
// while the others handle what they took, inline, on the goroutine that
// took it. A request is read, handled and answered without a hand-off to
// another goroutine, and a handler that blocks (a store round trip) holds
// its own goroutine only: the next one is already waiting for events.
type poller struct {
	epfd int
	file *os.File // the epoll fd, pollable
	rc   syscall.RawConn

	mu      sync.RWMutex
	targets []target // by fd: fds are small and dense, a slot is 16 bytes
	closed  bool
}

// target is what an fd's events go to: a connection or a listener.
type target interface{ onEvent(ev uint32) }

const (
	connEvents   = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET
	listenEvents = unix.EPOLLIN

	// pollBatch bounds the events one goroutine takes at a time: the rest
	// are left to the next goroutine, so two cores share a busy moment.
	pollBatch = 32
)

func newPoller() (*poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "epoll") // non-blocking: Go's poller takes it
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &poller{epfd: fd, file: f, rc: rc}, nil
}

// add registers fd with events; t gets them on a goroutine of the handler
// pool, possibly on two at once (a connection serialises its own work).
func (p *poller) add(fd int, events uint32, t target) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return os.ErrClosed
	}
	if fd >= len(p.targets) {
		p.targets = append(p.targets, make([]target, max(fd+1, 2*len(p.targets))-len(p.targets))...)
	}
	p.targets[fd] = t
	p.mu.Unlock()
	// The call runs outside the lock: no other goroutine touches an fd
	// being added, and adds on several cores (a reload's adoption, a
	// burst of accepts) wait only for the kernel's own lock.
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Lock()
		if fd < len(p.targets) {
			p.targets[fd] = nil
		}
		p.mu.Unlock()
		return err
	}
	return nil
}

// del unregisters fd; it must run before the fd is closed, since fds are
// reused.
func (p *poller) del(fd int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return os.ErrClosed
	}
	if fd < len(p.targets) {
		p.targets[fd] = nil
	}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// forget drops fd's target without a system call, for a socket about to
// be closed for good: the close takes it out of the epoll set. An event of
// it already taken finds no target, or the next socket given the same fd,
// which then reads nothing: a spurious event costs a read.
func (p *poller) forget(fd int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fd < len(p.targets) {
		p.targets[fd] = nil
	}
}

// serve takes events and handles them until the poller closes. The pool's
// goroutines all run it; Go's fd lock lets one of them wait at a time.
func (p *poller) serve(onError func(error)) {
	events := make([]unix.EpollEvent, pollBatch)
	ts := make([]target, pollBatch)
	for {
		var n int
		var werr error
		err := p.rc.Read(func(fd uintptr) bool {
			n, werr = epollPoll(int(fd), events)
			return n != 0 || werr != nil // nothing yet: wait for the epoll fd
		})
		if err != nil {
			p.mu.RLock()
			closed := p.closed
			p.mu.RUnlock()
			if !closed { // closing makes every waiting Read fail: not news
				onError(err)
			}
			return
		}
		if werr == unix.EINTR {
			continue
		}
		if werr != nil {
			onError(fmt.Errorf("epoll_wait: %w", werr))
			return
		}
		p.mu.RLock()
		for i := range n {
			if fd := int(events[i].Fd); fd < len(p.targets) {
				ts[i] = p.targets[fd]
			}
		}
		p.mu.RUnlock()
		for i := range n {
			if t := ts[i]; t != nil {
				ts[i] = nil
				t.onEvent(events[i].Events)
			}
		}
	}
}

// close stops every serve; events not taken yet are dropped.
func (p *poller) close() error {
	p.mu.Lock()
	p.closed, p.targets = true, nil
	p.mu.Unlock()
	return p.file.Close()
}

// onEvent runs on the poller goroutine that took c's readiness: it does the
// work itself, unless another goroutine holds c, which then finds the bits.
func (c *Conn[S]) onEvent(ev uint32) {
	var bits uint32
	if ev&unix.EPOLLIN != 0 {
		bits |= flagRead
	}
	if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		bits |= flagRead | flagHup
	}
	if ev&unix.EPOLLOUT != 0 {
		bits |= flagWrite
	}
	if bits != 0 && c.claim(bits) {
		// Counted as a worker's run is: Freeze and Stop wait for busy to
		// reach zero, and a read in progress here must finish first, or a
		// reload exports the connection while its frame is being taken.
		c.srv.busy.Add(1)
		c.srv.run(c)
		c.srv.busy.Add(-1)
	}
}
