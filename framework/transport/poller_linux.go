package transport

import (
	"github.com/mailru/easygo/netpoll"
)

// poller is the one epoll instance of a Server. It uses easygo's Epoll layer
// (the one under netpoll.Poller) with the raw socket fd: netpoll.Handle and
// NewDesc wrap the fd in an os.File, which either registers it in Go's own
// poller or duplicates it, and a Desc has one event mask, so it cannot wait for
// write readiness on a slow socket. Here each connection is one fd, registered
// once, edge-triggered for read and write.
type poller struct {
	ep *netpoll.Epoll
}

const connEvents = netpoll.EPOLLIN | netpoll.EPOLLOUT | netpoll.EPOLLRDHUP | netpoll.EPOLLET

// epollClosed is the event easygo delivers to every callback when the epoll
// instance closes.
const epollClosed = 0x20

func newPoller(onError func(error)) (*poller, error) {
	ep, err := netpoll.EpollCreate(&netpoll.EpollConfig{OnWaitError: onError})
	if err != nil {
		return nil, err
	}
	return &poller{ep: ep}, nil
}

// add registers fd; its events go to onEvent on the poller goroutine. The
// method value a caller passes (c.onEvent) is the one allocation per
// connection here (16 bytes; a closure over the server and c took 24).
func (p *poller) add(fd int, onEvent func(netpoll.EpollEvent)) error {
	return p.ep.Add(fd, connEvents, onEvent)
}

// addListener registers a listening socket, level-triggered for accepts.
func (p *poller) addListener(fd int, onReady func()) error {
	return p.ep.Add(fd, netpoll.EPOLLIN, func(ev netpoll.EpollEvent) {
		if ev != epollClosed {
			onReady()
		}
	})
}

// onEvent turns c's readiness into work for a worker.
func (c *Conn[S]) onEvent(ev netpoll.EpollEvent) {
	if ev == epollClosed {
		return
	}
	var bits uint32
	if ev&netpoll.EPOLLIN != 0 {
		bits |= flagRead
	}
	if ev&(netpoll.EPOLLRDHUP|netpoll.EPOLLHUP|netpoll.EPOLLERR) != 0 {
		bits |= flagRead | flagHup
	}
	if ev&netpoll.EPOLLOUT != 0 {
		bits |= flagWrite
	}
	if bits != 0 {
		c.srv.schedule(c, bits)
	}
}

// del unregisters fd; it must run before the fd is closed, since fds are reused.
func (p *poller) del(fd int) error { return p.ep.Del(fd) }

func (p *poller) close() error { return p.ep.Close() }
