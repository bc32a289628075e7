package framework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"msgo/framework/transport"
	"msgo/library/cache"
)

// conn is one connection: the transport's Conn carrying this package's
// session.
type conn = transport.Conn[session]

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
	// TakingOver is set in a process started by a reload to adopt the
	// connections of the one before it: its bus holds what it receives
	// until ReleaseBus (see CutBus).
	TakingOver bool
}

// Server is a msgo node: the transport's connections, dispatched through a
// Router to controllers, with the App handle wired to the cluster.
type Server struct {
	cfg     Config
	log     *slog.Logger
	router  *Router
	app     *App
	tr      *transport.Server[session]
	metrics *Metrics
	auth    Authenticator
	unavail []error
	started time.Time
	// sessions are the resumable sessions on this node (resume.go).
	sessions sessions
	// parked are detached sessions a reload holds (handoff_detached.go).
	parked parkedExpiries

	ctx      context.Context // handlers' lifetime; cancelled after stop
	cancel   context.CancelFunc
	work     gate // handlers and streams that owe a reply
	backend  Backend
	admits   admissions // handshakes the Backend admitted, until opened
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
	if len(cfg.UserTypes) == 0 {
		return nil, errors.New("framework: Config.UserTypes is required")
	}
	o.Router.checkAllow(cfg.UserTypes)
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:     cfg,
		log:     log,
		router:  o.Router,
		metrics: newMetrics(),
		auth:    o.Authenticate,
		unavail: append([]error{cache.ErrUnavailable}, o.Unavailable...),
		started: time.Now(),
		ctx:     ctx,
		cancel:  cancel,
	}
	s.backend = o.Backend
	var admit func(*conn, transport.Headers, func(transport.Verdict))
	if o.Backend != nil {
		admit = s.admit
	}
	tr, err := transport.New(transport.Options[session]{
		Config:       cfg.transport(),
		Logger:       log,
		Metrics:      s.metrics.transport,
		Authenticate: s.authenticate,
		Open:         s.opened,
		Message:      s.dispatch,
		Ping:         s.ping,
		Quiesce:      s.quiesce,
		Admit:        admit,
		Closed:       s.closed,
		Detached:     s.detached,
		Stamp:        stamp,
		HTTP:         o.HTTP,
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("framework: %w", err)
	}
	s.tr = tr
	s.app = newApp(s, o.Store)
	if o.TakingOver {
		s.app.bus.Hold()
	}
	s.router.freeze(s.log, s.metrics)
	s.app.start(ctx)
	return s, nil
}

// authenticate fills a new connection's session from its token.
func (s *Server) authenticate(token []byte, ss *session) error {
	id, err := s.auth(token)
	if err != nil {
		return err
	}
	if id.ID == "" {
		return errors.New("framework: the token names no user")
	}
	ss.ident = compact(id)
	return nil
}

// opened records a new connection's presence and runs the connect
// functions, on its worker before its 101 is written.
func (s *Server) opened(c *conn) {
	s.app.connected(c)
	if s.backend != nil {
		s.app.admitted(c, s.admits.take(c))
	}
	s.app.runConnects(c)
}

// closed undoes what a connection did, once, after its last handler: its
// close controllers run, then groups, close keys and presence are undone.
func (s *Server) closed(c *conn) {
	var h *hooks
	c.Edit(func(ss *session, _ bool) { h, ss.hooks = ss.hooks, nil })
	if h != nil && h.resume != nil {
		s.sessionClosed(h.resume)
	}
	s.app.disconnected(c, h)
	if s.backend != nil {
		s.backend.Closed(s.peer(c), c.CloseCode())
	}
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
func (s *Server) Connections() int { return s.tr.Connections() }

// Serve accepts connections on ln until StopAccepting or Stop; it returns
// nil then. The server accepts on its own duplicate of ln's socket, so the
// caller may close ln at any time; accepting goes on until Stop.
func (s *Server) Serve(ln net.Listener) error { return s.tr.Serve(ln) }

// StopAccepting stops every Serve: no connection is accepted after it
// returns. Connections already accepted finish their handshake.
func (s *Server) StopAccepting() { s.tr.StopAccepting() }

// Stop stops handling messages, waits for the handlers and streams in flight
// to write their replies, then closes every connection with code (1001 for a
// stop, 1012 for a reload), spread over spread, behind those replies; it
// waits for close hooks, releases what is left and stops accepting; Serve
// returns then. Each of the two waits is bounded by the stop timeout. On a
// stop, handshakes meanwhile are refused with 503. On a reload, accepting
// stops first and handshakes in progress complete (another process now serves
// the listener, so refusing them would refuse a client) and are closed with
// 1012 like the rest. Then the node leaves the cluster.
func (s *Server) Stop(ctx context.Context, code int, spread time.Duration) {
	s.stopOnce.Do(func() {
		s.tr.Stop(ctx, code, spread)
		s.cancel()
		s.app.stop()
	})
}

// quiesce shuts the gate (messages read from now on are not handled) and
// waits for the handlers and streams in flight, so their replies are queued
// ahead of the close frames.
func (s *Server) quiesce(ctx context.Context) {
	if !s.work.close(ctx) && ctx.Err() == context.DeadlineExceeded {
		s.log.Warn("stop timeout: closing connections with replies still owed")
	}
}

// Drain refuses new handshakes with 503 from now on, without closing anything.
func (s *Server) Drain() { s.tr.Drain() }

// Draining reports whether the server stopped accepting.
func (s *Server) Draining() bool { return s.tr.Draining() }

func (s *Server) nowMS() uint32 { return uint32(time.Since(s.started) / time.Millisecond) }
