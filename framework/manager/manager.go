package manager

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"msgo/framework"
)

// MaxBodyBytes bounds a request body; a larger one answers 413.
const MaxBodyBytes = 1 << 20

// callTimeout bounds one API call: a cross-node push waits up to a second for
// other nodes' counts, so this only cuts off a store that hangs.
const callTimeout = 10 * time.Second

// Node is what the manager needs of a running msgo node. *framework.Server
// is one.
type Node interface {
	App() *framework.App
	Metrics() *framework.Metrics
	NodeID() string
	Started() time.Time
	Connections() int
	Draining() bool
}

var _ Node = (*framework.Server)(nil)

// Options configures a Manager. Server is required.
type Options struct {
	Server Node
	// Token is the bearer token every call but /healthz and /readyz must
	// carry. Empty means no token, and then only loopback peers are served
	// (CheckBind refuses such a configuration on any other address).
	Token   string
	Version string // reported by /api/status
	// Ready reports whether the node's dependencies (store, database) answer;
	// /readyz calls it. Nil pings the node's store.
	Ready func(ctx context.Context) error
	// Pprof mounts net/http/pprof under /debug/pprof/, behind the token.
	Pprof  bool
	Logger *slog.Logger
	// AllowedOrigins lists the Origin values whose requests are served
	// besides the port's own pages (an Origin of "http://" + Host); any
	// other request carrying an Origin header answers 403.
	AllowedOrigins []string
	// AllowedHosts lists host names or addresses (no port) that the Host
	// header may name besides loopback addresses and localhost; any other
	// answers 421.
	AllowedHosts []string
	// Assets are the shared page scripts (i18n.js), served at /assets/ for
	// the admin page. Nil: the admin page is in English only.
	Assets fs.FS
}

// Manager serves the manager port (docs/manager-api.md). It is an
// http.Handler, safe for concurrent use; it holds no state of its own beyond
// its configuration, so any number of them may front one node.
type Manager struct {
	node    Node
	app     *framework.App
	auth    authenticator
	browser browserGuard
	version string
	ready   func(ctx context.Context) error
	log     *slog.Logger
	routes  map[string]route
	openapi []byte       // the document /api/openapi.json serves
	pprof   http.Handler // nil unless enabled
	assets  http.Handler // nil without Options.Assets
	metrics *callMetrics
}

// route is one path's handler and the method it answers.
type route struct {
	method string // GET routes also answer HEAD
	open   bool   // served without the token
	h      http.Handler
}

// New builds a Manager. It panics when o.Server is nil: that is a wiring
// mistake to surface at start.
func New(o Options) *Manager {
	if o.Server == nil {
		panic("manager: Options.Server is required")
	}
	m := &Manager{
		node:    o.Server,
		app:     o.Server.App(),
		auth:    newAuthenticator(o.Token),
		browser: newBrowserGuard(o.AllowedOrigins, o.AllowedHosts),
		version: o.Version,
		ready:   o.Ready,
		log:     o.Logger,
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.ready == nil {
		m.ready = m.app.Store().Ping
	}
	if o.Pprof {
		m.pprof = pprofHandler()
	}
	m.openapi = openAPI(o.Version)
	if o.Assets != nil {
		m.assets = assetsHandler(o.Assets)
	}
	m.metrics = newCallMetrics(m)
	get, post := http.MethodGet, http.MethodPost
	m.routes = map[string]route{
		"/healthz":             {method: get, open: true, h: http.HandlerFunc(m.healthz)},
		"/readyz":              {method: get, open: true, h: http.HandlerFunc(m.readyz)},
		"/metrics":             {method: get, h: metricsHandler(m.node.Metrics().Registry, m.metrics.reg)},
		"/api/status":          {method: get, h: m.api(m.status)},
		"/api/online/count":    {method: get, h: m.api(m.onlineCount)},
		"/api/online/users":    {method: get, h: m.api(m.onlineUsers)},
		"/api/online/check":    {method: get, h: m.api(m.onlineCheck)},
		"/api/send/user":       {method: post, h: m.api(m.sendCall(toUser, pushFrame))},
		"/api/send/users":      {method: post, h: m.api(m.sendCall(toUsers, pushFrame))},
		"/api/broadcast":       {method: post, h: m.api(m.sendCall(toAllBut, pushFrame))},
		"/api/send/room":       {method: post, h: m.api(m.sendCall(m.toRoom, pushFrame))},
		"/api/notify":          {method: post, h: m.api(m.sendCall(m.toAudience(false), noticeFrame))},
		"/api/data-update":     {method: post, h: m.api(m.sendCall(m.toAudience(true), dataUpdateFrame))},
		"/api/disconnect/user": {method: post, h: m.api(m.disconnectUser)},
		"/api/room/join":       {method: post, h: m.api(m.roomMove(true))},
		"/api/room/leave":      {method: post, h: m.api(m.roomMove(false))},
		"/api/room/users":      {method: get, h: m.api(m.roomUsers)},
		"/api/room/count":      {method: get, h: m.api(m.roomCount)},
		"/api/user/rooms":      {method: get, h: m.api(m.userRooms)},
		"/api/openapi.json":    {method: get, h: http.HandlerFunc(m.serveOpenAPI)},
	}
	m.addAdmin()
	return m
}

// serve refuses foreign web pages (browserGuard), then checks the token
// (before the path, so that an outsider learns nothing about which paths
// exist), then the path, then the method.
func (m *Manager) serve(w http.ResponseWriter, r *http.Request) {
	rt, ok := m.routes[r.URL.Path]
	if !ok && m.pprof != nil && strings.HasPrefix(r.URL.Path, pprofPrefix) {
		rt, ok = route{h: m.pprof}, true // pprof's symbol lookup also takes POST
	}
	if !ok && m.assets != nil && strings.HasPrefix(r.URL.Path, assetsPrefix) {
		rt, ok = route{method: http.MethodGet, open: true, h: m.assets}, true
	}
	if !rt.open {
		if err := m.browser.check(r); err != nil {
			writeError(w, err)
			return
		}
	}
	if !rt.open && !m.auth.allow(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="msgo manager"`)
		writeError(w, errorf(http.StatusUnauthorized, "missing or wrong bearer token"))
		return
	}
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "no such call: %s", r.URL.Path))
		return
	}
	if rt.method != "" && r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		allow := rt.method
		if allow == http.MethodGet {
			allow += ", " + http.MethodHead
		}
		w.Header().Set("Allow", allow)
		writeError(w, errorf(http.StatusMethodNotAllowed, "%s takes %s, not %s", r.URL.Path, rt.method, r.Method))
		return
	}
	if rt.method == http.MethodPost {
		if err := jsonBody(r); err != nil {
			writeError(w, err)
			return
		}
	}
	if r.ContentLength > MaxBodyBytes {
		writeError(w, errTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	rt.h.ServeHTTP(w, r)
}

// endpoint is one API call: it returns the answer's data, or an error that
// becomes the answer's code and message (see fail).
type endpoint func(r *http.Request) (any, error)

// api adapts an endpoint to the answer envelope.
func (m *Manager) api(e endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
		defer cancel()
		data, err := e(r.WithContext(ctx))
		if err != nil {
			writeError(w, m.fail(r, err))
			return
		}
		writeJSON(w, http.StatusOK, "success", data)
	})
}
