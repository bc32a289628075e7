package framework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"msgo/framework/internal/wsframe"
	"msgo/library/cache"
)

// Options wires a Server. Router, Store and Authenticate are required.
type Options struct {
	Config       Config
	Router       *Router
	Store        cache.Store
	Authenticate Authenticator
	Logger       *slog.Logger
	// HTTP, when set, serves plain (non-upgrade) HTTP requests that arrive on
	// the WebSocket port for paths other than the WebSocket paths: the SDK
	// and the pages.
	HTTP http.Handler
	// Unavailable lists errors (matched with errors.Is) that mean a dependency
	// is down: a handler returning one answers 503. cache.ErrUnavailable is
	// always in the list.
	Unavailable []error
	// Backend, when set, is consulted at every handshake, for the methods
	// it forwards, and at every close (see Backend).
	Backend Backend
}

// Server accepts WebSocket connections, drives them from one epoll instance
// served by a bounded pool of goroutines (see poller), and dispatches their
// messages through a Router.
type Server struct {
	cfg      Config
	log      *slog.Logger
	router   *Router
	app      *App
	hub      *hub
	poller   *poller
	metrics  *Metrics
	auth     Authenticator
	unavail  []error
	runq     chan *conn
	flush    *flushers
	nextID   atomic.Uint64
	clock    atomic.Int64 // unix seconds, ticked by the sweeper
	started  time.Time
	draining atomic.Bool
	ips      ipLimiter
	acceptor acceptor
	shakes   sync.Pool // *handshake
	http     *httpSide
	backend  Backend
	resumes  resumes

	ctx      context.Context // handlers' lifetime; cancelled after stop
	cancel   context.CancelFunc
	wg       sync.WaitGroup // workers and sweeper
	inflight sync.WaitGroup // connections not yet released
	work     gate           // handlers and streams that owe a reply
	stopOnce sync.Once
}

// New builds a Server. The router is frozen: no route can be added after.
func New(o Options) (*Server, error) {
	if o.Router == nil || o.Store == nil || o.Authenticate == nil {
		return nil, errors.New("framework: Router, Store and Authenticate are required")
	}
	cfg := o.Config.withDefaults()
	if cfg.NodeID == "" {
		return nil, errors.New("framework: Config.NodeID is required")
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:     cfg,
		log:     log,
		router:  o.Router,
		hub:     newHub(),
		metrics: newMetrics(),
		auth:    o.Authenticate,
		unavail: append([]error{cache.ErrUnavailable}, o.Unavailable...),
		runq:    make(chan *conn, 1<<16),
		flush:   newFlushers(runtime.GOMAXPROCS(0)),
		started: time.Now(),
		ctx:     ctx,
		cancel:  cancel,
	}
	s.ips.max = cfg.MaxConnsPerIP
	s.ips.track = o.Backend != nil
	s.backend = o.Backend
	s.shakes.New = func() any { return newHandshake(s) }
	s.acceptor.done = make(chan struct{})
	s.acceptor.shaking = make(map[*conn]struct{})
	s.acceptor.spare, _ = unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if o.HTTP != nil {
		s.http = newHTTPSide(o.HTTP)
	}
	s.clock.Store(time.Now().Unix())
	p, err := newPoller()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("framework: create poller: %w", err)
	}
	s.poller = p
	s.app = newApp(s, o.Store)
	s.router.freeze(s.log, s.metrics)
	s.metrics.connections = func() float64 { return float64(s.hub.count.Load()) }
	onError := func(err error) { log.Error("epoll wait failed", "err", err) }
	for range cfg.Workers {
		s.wg.Go(func() { p.serve(onError) })
	}
	for range queueWorkers() {
		s.wg.Go(s.worker)
	}
	for i := range s.flush.lanes {
		s.wg.Go(func() { s.flush.run(ctx, i) })
	}
	s.wg.Go(s.sweeper)
	s.wg.Go(s.releaser)
	s.app.start(ctx)
	return s, nil
}

// App returns the handle controllers and the manager port use.
func (s *Server) App() *App { return s.app }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Started returns when the server was built.
func (s *Server) Started() time.Time { return s.started }

// NodeID returns this node's id.
func (s *Server) NodeID() string { return s.cfg.NodeID }

// Connections returns how many connections this node holds.
func (s *Server) Connections() int { return int(s.hub.count.Load()) }

func (s *Server) now() int64 { return s.clock.Load() }

// queueWorkers is how many goroutines serve the run queue: the work the
// poller's goroutines did not take inline (a close or an abort begun
// elsewhere, a busy connection's next turn).
func queueWorkers() int { return 4 * runtime.GOMAXPROCS(0) }

// worker runs queued connections until Stop sends it a nil. The run queue is
// never closed (anything may still schedule a connection while stopping), and
// the wait is a plain receive, not a select with the context, because it is
// on every message's path and a select costs several times a receive.
func (s *Server) worker() {
	for {
		c := <-s.runq
		if c == nil {
			return
		}
		s.run(c)
	}
}

// onEvent runs on the poller goroutine that took c's readiness: it does the
// work itself, unless another goroutine holds c, which then finds the bits.
func (c *conn) onEvent(ev uint32) {
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
		c.srv.run(c)
	}
}

// closed runs once per connection after its close began, whatever began it
// (client, idle, kick, stop, overflow, a dead socket): the close controllers
// run, then groups, close keys and presence are undone. It runs on the
// connection's worker, so after every handler of it.
func (s *Server) closed(c *conn) {
	c.mu.Lock()
	if c.hooksRan {
		c.mu.Unlock()
		return
	}
	c.hooksRan = true
	h, code := c.hooks, int(c.closeCode)
	c.hooks = nil
	released := c.state == stateReleased
	c.mu.Unlock()
	s.app.disconnected(c, h)
	s.metrics.closed(code)
	if s.backend != nil {
		s.backend.Closed(s.peer(c), code)
	}
	if released {
		s.finish(c)
	}
}

// abort gives up on the socket now: the peer is gone, answered our close, or
// never answered it in time. 1006 is recorded when no close frame was seen.
func (s *Server) abort(c *conn) { s.release(c, 1006) }

// release closes the fd, then runs the close hooks if they have not run.
func (s *Server) release(c *conn, code int) {
	c.mu.Lock()
	if c.state == stateReleased {
		c.mu.Unlock()
		return
	}
	if c.shakeAt != 0 {
		c.mu.Unlock()
		s.drop(c) // never opened: nothing to undo
		return
	}
	if c.state == stateOpen {
		c.closeCode = uint16(code)
	}
	c.state = stateReleased
	s.poller.del(int(c.fd))
	unix.Close(int(c.fd))
	c.out = nil
	hooksRan := c.hooksRan
	c.mu.Unlock()
	c.in = nil
	if !hooksRan {
		s.closed(c) // it calls finish
		return
	}
	s.finish(c)
}

// finish forgets a released connection whose hooks have run.
func (s *Server) finish(c *conn) {
	if s.hub.remove(c) {
		s.ips.release(c.ip)
		s.inflight.Done()
	}
}

// sweeper ticks the clock and closes idle connections (4000) and closing
// connections whose peer never answered, without a timer per connection.
func (s *Server) sweeper() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.clock.Store(now.Unix())
			s.sweep(now.Unix())
		}
	}
}

func (s *Server) sweep(now int64) {
	idle := int64(s.cfg.IdleTimeout / time.Second)
	if idle < 1 {
		idle = 1
	}
	grace := int64(s.cfg.CloseTimeout / time.Second)
	shake := int64(s.cfg.HandshakeTimeout / time.Second)
	s.eachShaking(func(c *conn) {
		c.mu.Lock()
		at, waiting := c.shakeAt, c.waiting
		c.mu.Unlock()
		// A handshake waiting on the Backend is bounded by the Backend's timeout.
		if at != 0 && !waiting && now-at >= shake {
			s.metrics.handshake("timeout")
			s.schedule(c, flagAbort)
		}
	})
	s.hub.each(func(c *conn) {
		c.mu.Lock()
		state, closingAt := c.state, c.closingAt
		c.mu.Unlock()
		switch {
		// lastSeen and now are both readings of the ticked clock: a gap of
		// idle ticks is a silence anywhere in (idle-1, idle] seconds, so a
		// silence of idle seconds is certain only past idle ticks.
		case state == stateOpen && now-c.lastSeen.Load() > idle:
			c.closeWith(wsframe.CloseIdle, "")
		case state == stateClosing && now-closingAt >= grace:
			s.schedule(c, flagAbort)
		}
	})
}

// Stop stops handling messages, waits for the handlers and streams in flight
// to write their replies, then closes every connection with code (1001 for a
// stop, 1012 for a reload), spread over spread, behind those replies; it
// waits for close hooks, releases what is left and stops accepting; Serve
// returns then. Each of the two waits is bounded by the stop timeout. On a
// stop, handshakes meanwhile are refused with 503. On a reload, accepting
// stops first and handshakes in progress complete (another process now serves
// the listener, so refusing them would refuse a client) and are closed with
// 1012 like the rest.
func (s *Server) Stop(ctx context.Context, code int, spread time.Duration) {
	s.stopOnce.Do(func() {
		if code == CloseServiceRestart {
			s.StopAccepting()
			deadline := time.Now().Add(s.cfg.HandshakeTimeout + time.Second)
			for s.handshaking() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		s.draining.Store(true)
		wctx, cancel := context.WithTimeout(ctx, s.cfg.StopTimeout)
		if !s.work.close(wctx) && ctx.Err() == nil {
			s.log.Warn("stop timeout: closing connections with replies still owed")
		}
		cancel()
		var all []*conn
		s.hub.each(func(c *conn) { all = append(all, c) })
		var gap time.Duration
		if spread > 0 && len(all) > 1 {
			gap = spread / time.Duration(len(all))
		}
		for _, c := range all {
			c.closeWith(code, "")
			if gap > 0 {
				time.Sleep(gap)
			}
		}
		done := make(chan struct{})
		go func() { s.inflight.Wait(); close(done) }()
		timeout := time.NewTimer(s.cfg.StopTimeout)
		defer timeout.Stop()
		select {
		case <-done:
		case <-timeout.C:
			s.log.Warn("stop timeout: releasing connections still open")
		case <-ctx.Done():
		}
		s.hub.each(func(c *conn) { s.schedule(c, flagAbort) })
		s.eachShaking(func(c *conn) { s.schedule(c, flagAbort) })
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		s.StopAccepting()
		s.cancel()
		go func() { // one nil per worker, behind what is queued
			for range queueWorkers() {
				s.runq <- nil
			}
		}()
		if s.http != nil {
			s.http.close()
		}
		s.poller.close()
		if s.acceptor.spare > 0 {
			unix.Close(s.acceptor.spare)
		}
		s.app.stop()
	})
}

// Drain refuses new handshakes with 503 from now on, without closing anything.
func (s *Server) Drain() { s.draining.Store(true) }

// Draining reports whether the server stopped accepting.
func (s *Server) Draining() bool { return s.draining.Load() }
