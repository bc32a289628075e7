package framework

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
)

// Handler answers one request. It replies with c.Success (or c.Reply), or
// returns an error: an *Error answers with its status, a dependency error 503,
// anything else 500. A handler that returns nil without replying answers 200
// with an empty param.
type Handler func(c *Context) error

// Middleware wraps a Handler, as in chi: logging, tracing, auth of your own.
// Panic recovery and metrics are built in and wrap every route outermost; a
// route's guards (Allow, Limit) come next, so middleware sees only the
// requests its route admits. Any func(Handler) Handler literal is one.
type Middleware func(Handler) Handler

// CloseFunc is a close controller: it runs once when a connection that named
// it with App.AddCloseController closes, after the connection's last handler.
// The connection can no longer be written to; cl tells who it was.
type CloseFunc func(ctx context.Context, app *App, cl Client)

// ConnectFunc runs once for every new connection, after its token was
// accepted and before its 101 is written: a push sent the moment the client
// sees its handshake succeed already finds what the function set up (an
// agent in its group). It runs on the connection's worker, ahead of its
// first message, so it should be quick (a few store operations) and handle
// its own errors; ctx bounds it.
// The connection can be written to (frames wait for the 101) and may join
// groups and name close controllers; no handler or close hook of it runs
// before the function returns.
type ConnectFunc func(ctx context.Context, app *App, cl Client)

// Route is a registered method, as the route table holds it.
type Route struct {
	Method string   // lower-cased module.controller.action
	Allow  []string // user types that may call it; empty = any
	Limit  int      // the route's own messages per second per connection; 0 = only the connection's limit
}

// RouteOption declares something about a route at registration.
type RouteOption func(*Route)

// Allow restricts a route to user types (some of Config.UserTypes): a
// caller of any other type gets 403 and the handler does not run. Several
// Allow options add up; a type not in Config.UserTypes panics in New.
func Allow(types ...string) RouteOption {
	return func(r *Route) { r.Allow = append(r.Allow, types...) }
}

// Limit gives a route its own rate: perSecond calls per second per
// connection, with a burst of perSecond, counted apart from other routes and
// on top of the connection's own limit. A call over it answers 429 and the
// handler does not run. Use it for the expensive or noisy actions.
func Limit(perSecond int) RouteOption {
	return func(r *Route) { r.Limit = perSecond }
}

type route struct {
	Route
	h     Handler
	index int // slot in a connection's per-route limiters
}

// Router is msgo's route table: methods to handlers and close controller names
// to close functions. Modules register into it at start; New freezes it, and
// from then on dispatch is one map lookup without a lock. Registration
// mistakes panic, so they surface at start, not on a request.
type Router struct {
	routes   map[string]*route
	closers  map[string]CloseFunc
	connects []ConnectFunc
	mws      []Middleware
	limited  int // routes with their own limit
	frozen   bool
}

// NewRouter returns an empty route table.
func NewRouter() *Router {
	return &Router{routes: make(map[string]*route), closers: make(map[string]CloseFunc)}
}

var methodRE = regexp.MustCompile(`^[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+$`)

// Use appends middleware; the first added is the outermost. It panics after a
// route was registered, as chi does, so every route has the same chain. That
// makes middleware the application's, not a module's: whoever builds the
// Router (the console, or msgotest.Options.Middleware) adds it before any
// module registers.
func (r *Router) Use(mws ...Middleware) {
	if r.frozen || len(r.routes) > 0 {
		panic("framework: Use after routes were registered")
	}
	r.mws = append(r.mws, mws...)
}

// Handle registers h for method ("module.controller.action", matched without
// regard to case). It panics on a malformed or duplicate method.
func (r *Router) Handle(method string, h Handler, opts ...RouteOption) {
	if r.frozen {
		panic("framework: Handle after the server started")
	}
	m := strings.ToLower(method)
	if !methodRE.MatchString(m) {
		panic(fmt.Sprintf("framework: malformed method %q: want module.controller.action", method))
	}
	if _, dup := r.routes[m]; dup {
		panic(fmt.Sprintf("framework: method %q registered twice", m))
	}
	rt := &route{Route: Route{Method: m}, h: h, index: -1}
	for _, o := range opts {
		o(&rt.Route)
	}
	if rt.Limit < 0 {
		panic(fmt.Sprintf("framework: route %q has a negative rate limit", m))
	}
	if rt.Limit > 0 {
		rt.index = r.limited
		r.limited++
	}
	r.routes[m] = rt
}

// OnClose registers a close controller under name (MSwoole's "Live.User"),
// matched without regard to case. It panics on a duplicate name.
func (r *Router) OnClose(name string, fn CloseFunc) {
	if r.frozen {
		panic("framework: OnClose after the server started")
	}
	k := strings.ToLower(name)
	if _, dup := r.closers[k]; dup {
		panic(fmt.Sprintf("framework: close controller %q registered twice", name))
	}
	r.closers[k] = fn
}

// OnConnect adds fn to the functions run for every new connection, in the
// order they were added (see ConnectFunc).
func (r *Router) OnConnect(fn ConnectFunc) {
	if r.frozen {
		panic("framework: OnConnect after the server started")
	}
	r.connects = append(r.connects, fn)
}

// Routes returns the registered routes, sorted by method.
func (r *Router) Routes() []Route {
	out := make([]Route, 0, len(r.routes))
	for _, rt := range r.routes {
		out = append(out, rt.Route)
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.Method, b.Method) })
	return out
}

// checkAllow panics when a route allows a user type that is not one of
// types: a registration mistake, surfaced at start.
func (r *Router) checkAllow(types []string) {
	for _, rt := range r.routes {
		for _, t := range rt.Allow {
			if !slices.Contains(types, t) {
				panic(fmt.Sprintf("framework: route %q allows unknown user type %q", rt.Method, t))
			}
		}
	}
}

// freeze builds every route's chain: recovery and metrics outermost, then the
// declared guards, then the router's middleware in order.
func (r *Router) freeze(log *slog.Logger, m *Metrics) {
	if r.frozen {
		panic("framework: router used by two servers")
	}
	r.frozen = true
	for _, rt := range r.routes {
		h := rt.h
		for i := len(r.mws) - 1; i >= 0; i-- {
			h = r.mws[i](h)
		}
		h = guard(rt, h)
		rt.h = Recoverer(log, m.observe(rt.Method, h))
	}
}

func (r *Router) lookup(method string) *route { return r.routes[method] }

func (r *Router) closer(name string) CloseFunc { return r.closers[strings.ToLower(name)] }
