//go:build linux

package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"msgo/framework/internal/wsframe"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// Options wires a Server. Authenticate, Message and Closed are required.
type Options[S any] struct {
	Config  Config
	Logger  *slog.Logger
	Metrics *Metrics // nil: a Metrics of its own, in no registry
	// Authenticate checks the token offered at the handshake and fills the
	// new connection's session; an error refuses the upgrade with 403. It
	// runs on the handshake path for every connection, so it must be fast and
	// must not keep the token.
	Authenticate func(token []byte, s *S) error
	// Open runs once a connection is registered, on its worker, before its
	// 101 is written: frames sent to it meanwhile wait behind the 101.
	Open func(c *Conn[S])
	// Message runs for each complete message, on the connection's worker, one
	// message at a time in arrival order. msg is borrowed until it returns.
	Message func(c *Conn[S], msg []byte)
	// Ping, when set, runs for each ping frame on the connection's worker;
	// false sends no pong (the layer above answered the ping otherwise).
	Ping func(c *Conn[S]) bool
	// Admit, when set, is asked about each handshake whose token was
	// accepted, before its 101. It must not block: it calls done exactly
	// once, from any goroutine, with the verdict. Meanwhile the connection
	// reads nothing and HandshakeTimeout does not apply: the layer above
	// bounds its own wait.
	Admit func(c *Conn[S], h Headers, done func(Verdict))
	// Quiesce, when set, runs in Stop once new handshakes are refused and
	// before any connection is closed, with the stop timeout on ctx: the
	// layer above finishes the work that owes clients a reply, so those
	// replies are queued ahead of the close frames.
	Quiesce func(ctx context.Context)
	// Closed runs once per connection after its close began, whatever began
	// it, on its worker after its last Message.
	Closed func(c *Conn[S])
	// Detached, when set, runs on a resumable connection's worker once its
	// socket is lost and it is detached (see StartReplay).
	Detached func(c *Conn[S])
	// Stamp appends payload, a frame's JSON object, to dst with the member
	// "n": n added; required for StartReplay.
	Stamp func(dst, payload []byte, n uint64) []byte
	// HTTP, when set, serves plain (non-upgrade) HTTP requests that arrive on
	// the WebSocket port for paths other than the WebSocket paths.
	HTTP http.Handler
}

// Server accepts WebSocket connections, drives them from one epoll instance
// served by a bounded pool of goroutines (see poller), and hands their
// messages to Options.Message.
type Server[S any] struct {
	cfg      Config
	log      *slog.Logger
	conns    *table[S]
	poller   *poller
	metrics  *Metrics
	auth     func(token []byte, s *S) error
	onOpen   func(*Conn[S])
	onMsg    func(*Conn[S], []byte)
	onPing   func(*Conn[S]) bool
	quiesce  func(ctx context.Context)
	onAdmit  func(*Conn[S], Headers, func(Verdict))
	resumes  resumes[S]
	waiting  atomic.Int32 // connections waiting on the layer above
	onClosed func(*Conn[S])
	// What resumable connections need (see replay.go): replays holds their
	// numbered output (*replay[S] by *Conn[S]), outside Conn, which most
	// connections do not need and which must stay small.
	onDetached func(*Conn[S])
	stamp      func(dst, payload []byte, n uint64) []byte
	replays    sync.Map
	runq       chan *Conn[S]
	flush      *flushers[S]
	nextID     atomic.Uint64
	clock      atomic.Int64 // unix seconds, ticked by the sweeper
	draining   atomic.Bool
	paused     atomic.Bool  // see Freeze: no accept, read or write
	shared     atomic.Bool  // sockets may have copies in another process: see closeSocket
	busy       atomic.Int32 // goroutines running a connection now (workers and pollers)
	ips        ipLimiter
	acceptor   acceptor[S]
	shakes     sync.Pool // *handshake[S]
	http       *httpSide

	ctx      context.Context // cancelled after stop
	cancel   context.CancelFunc
	wg       sync.WaitGroup // workers and sweeper
	inflight sync.WaitGroup // connections not yet released
	stopOnce sync.Once
}

// New builds a Server and starts its workers.
func New[S any](o Options[S]) (*Server[S], error) {
	if o.Authenticate == nil || o.Message == nil || o.Closed == nil {
		return nil, errors.New("transport: Authenticate, Message and Closed are required")
	}
	cfg := o.Config.withDefaults()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	m := o.Metrics
	if m == nil {
		m = NewMetrics(prometheus.NewRegistry())
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server[S]{
		cfg:        cfg,
		log:        log,
		conns:      newTable[S](),
		metrics:    m,
		auth:       o.Authenticate,
		onOpen:     o.Open,
		onMsg:      o.Message,
		onPing:     o.Ping,
		quiesce:    o.Quiesce,
		onAdmit:    o.Admit,
		onClosed:   o.Closed,
		onDetached: o.Detached,
		stamp:      o.Stamp,
		runq:       make(chan *Conn[S], 1<<16),
		flush:      newFlushers[S](runtime.GOMAXPROCS(0)),
		ctx:        ctx,
		cancel:     cancel,
	}
	s.ips.max = cfg.MaxConnsPerIP
	s.ips.track = o.Admit != nil
	s.shakes.New = func() any { return newHandshake(s) }
	s.acceptor.done = make(chan struct{})
	s.acceptor.shaking = make(map[*Conn[S]]struct{})
	s.acceptor.spare = spareFD()
	if o.HTTP != nil {
		s.http = newHTTPSide(o.HTTP)
	}
	s.clock.Store(time.Now().Unix())
	p, err := newPoller()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("transport: create poller: %w", err)
	}
	s.poller = p
	m.connections = func() float64 { return float64(s.conns.count.Load()) }
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
	return s, nil
}

// Metrics returns the server's transport metrics.
func (s *Server[S]) Metrics() *Metrics { return s.metrics }

// Conn returns the open or closing connection id, or nil.
func (s *Server[S]) Conn(id ConnID) *Conn[S] { return s.conns.get(id) }

// Each calls fn for every registered connection, holding no lock.
func (s *Server[S]) Each(fn func(*Conn[S])) { s.conns.each(fn) }

// Connections returns how many connections the server holds.
func (s *Server[S]) Connections() int { return int(s.conns.count.Load()) }

func (s *Server[S]) now() int64 { return s.clock.Load() }

// queueWorkers is how many goroutines serve the run queue: the work the
// poller's goroutines did not take inline (a close or an abort begun
// elsewhere, a busy connection's next turn, a Resume).
func queueWorkers() int { return 4 * runtime.GOMAXPROCS(0) }

// worker runs queued connections until Stop sends it a nil. The run queue is
// never closed (anything may still schedule a connection while stopping), and
// the wait is a plain receive, not a select with the context, because it is
// on every message's path and a select costs several times a receive.
func (s *Server[S]) worker() {
	for {
		c := <-s.runq
		if c == nil {
			return
		}
		s.busy.Add(1)
		s.run(c)
		s.busy.Add(-1)
	}
}

// closed runs once per connection after its close began, whatever began it
// (client, idle, kick, stop, overflow, a dead socket): Options.Closed undoes
// what the layer above did. It runs on the connection's worker, so after every
// message of it.
func (s *Server[S]) closed(c *Conn[S]) {
	c.mu.Lock()
	if c.closedRan {
		c.mu.Unlock()
		return
	}
	c.closedRan = true
	code := int(c.closeCode)
	released := c.state == stateReleased
	c.mu.Unlock()
	s.onClosed(c)
	s.metrics.closed(code)
	if released {
		s.finish(c)
	}
}

// abort gives up on the socket now: the peer is gone, answered our close, or
// never answered it in time. 1006 is recorded when no close frame was seen.
// A resumable connection whose peer is gone without a close is detached.
func (s *Server[S]) abort(c *Conn[S]) {
	if !s.detach(c) {
		s.release(c, 1006)
	}
}

// release closes the fd, then runs Closed if it has not run.
func (s *Server[S]) release(c *Conn[S], code int) {
	c.mu.Lock()
	if c.state == stateReleased || c.state == stateParked {
		c.mu.Unlock()
		return
	}
	if c.shakeAt != 0 {
		c.mu.Unlock()
		s.drop(c) // never opened: nothing to undo
		return
	}
	if c.state == stateOpen || c.state == stateDetached && c.closeCode == 0 {
		c.closeCode = uint16(code)
	}
	c.state = stateReleased
	if c.fd >= 0 {
		s.closeSocket(int(c.fd))
	}
	c.out = nil
	s.replays.Delete(c)
	closedRan := c.closedRan
	c.mu.Unlock()
	c.in = nil
	if !closedRan {
		s.closed(c) // it calls finish
		return
	}
	s.finish(c)
}

// closeSocket takes fd out of the poller and closes it. Closing the last
// descriptor of a socket takes it out of the epoll set too, so the
// EPOLL_CTL_DEL (a system call per connection) is made only when the
// socket may live on in another process: once the server has frozen for a
// reload (its sockets may have been copied to the new process) or took
// sockets over from another.
func (s *Server[S]) closeSocket(fd int) {
	if s.shared.Load() {
		s.poller.del(fd)
	} else {
		s.poller.forget(fd)
	}
	unix.Close(fd)
}

// finish forgets a released connection whose hooks have run.
func (s *Server[S]) finish(c *Conn[S]) {
	if s.conns.remove(c) {
		s.ips.release(c.ip)
		s.inflight.Done()
	}
}

// sweeper ticks the clock and closes idle connections (4000) and closing
// connections whose peer never answered, without a timer per connection.
func (s *Server[S]) sweeper() {
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

func (s *Server[S]) sweep(now int64) {
	if s.paused.Load() {
		return // the connections may be leaving: closing one now would run its hooks here
	}
	idle := int64(s.cfg.IdleTimeout / time.Second)
	if idle < 1 {
		idle = 1
	}
	grace := int64(s.cfg.CloseTimeout / time.Second)
	shake := int64(s.cfg.HandshakeTimeout / time.Second)
	s.eachShaking(func(c *Conn[S]) {
		c.mu.Lock()
		at, waiting := c.shakeAt, c.waiting
		c.mu.Unlock()
		// A handshake waiting on Admit is bounded by the layer above.
		if at != 0 && !waiting && now-at >= shake {
			s.metrics.handshake("timeout")
			s.schedule(c, flagAbort)
		}
	})
	s.conns.each(func(c *Conn[S]) {
		c.mu.Lock()
		state, closingAt := c.state, c.closingAt
		c.mu.Unlock()
		switch {
		// lastSeen and now are both readings of the ticked clock: a gap of
		// idle ticks is a silence anywhere in (idle-1, idle] seconds, so a
		// silence of idle seconds is certain only past idle ticks.
		case state == stateOpen && now-c.lastSeen.Load() > idle && c.IsResumable():
			s.schedule(c, flagAbort) // a silent network: detached, not closed
		case state == stateOpen && now-c.lastSeen.Load() > idle:
			c.Close(wsframe.CloseIdle, "")
		case state == stateClosing && now-closingAt >= grace:
			s.schedule(c, flagAbort)
		}
	})
}

// Stop refuses new handshakes, runs Options.Quiesce, then closes every
// connection with code (1001 for a stop, 1012 for a reload), spread over
// spread, waits for in-flight messages and Closed up to the stop timeout, releases what is left and stops accepting; Serve
// returns then. On a stop, handshakes meanwhile are refused with 503. On a
// reload, accepting stops first and handshakes in progress complete (another
// process now serves the listener, so refusing them would refuse a client)
// and are closed with 1012 like the rest.
func (s *Server[S]) Stop(ctx context.Context, code int, spread time.Duration) {
	s.stopOnce.Do(func() {
		if code == wsframe.CloseServiceRestart {
			s.StopAccepting()
			deadline := time.Now().Add(s.cfg.HandshakeTimeout + time.Second)
			for s.handshaking() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		s.draining.Store(true)
		if s.quiesce != nil {
			qctx, cancel := context.WithTimeout(ctx, s.cfg.StopTimeout)
			s.quiesce(qctx)
			cancel()
		}
		var all []*Conn[S]
		s.conns.each(func(c *Conn[S]) { all = append(all, c) })
		var gap time.Duration
		if spread > 0 && len(all) > 1 {
			gap = spread / time.Duration(len(all))
		}
		for _, c := range all {
			c.Close(code, "")
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
		s.conns.each(func(c *Conn[S]) { s.schedule(c, flagAbort) })
		s.eachShaking(func(c *Conn[S]) { s.schedule(c, flagAbort) })
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
	})
}

// Drain refuses new handshakes with 503 from now on, without closing anything.
func (s *Server[S]) Drain() { s.draining.Store(true) }

// Draining reports whether the server stopped accepting.
func (s *Server[S]) Draining() bool { return s.draining.Load() }
