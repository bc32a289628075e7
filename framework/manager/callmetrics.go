package manager

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"msgo/framework"
)

// callMetrics are the manager's own collectors: the calls it answered, and
// the node's build and size figures that only the manager knows how to put
// together. They live in a registry of the Manager's, gathered with the
// node's at /metrics, so that two managers fronting one node do not collide.
type callMetrics struct {
	reg      *framework.Carried // a registry of its own; its counters go on across a reload
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newCallMetrics(m *Manager) *callMetrics {
	reg := prometheus.NewRegistry()
	c := &callMetrics{reg: framework.NewCarried(reg)}
	c.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "msgo", Name: "manager_requests_total",
		Help: "Manager port requests by call (the route, not the raw path) and HTTP status.",
	}, []string{"call", "code"})
	c.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "msgo", Name: "manager_request_seconds", Help: "Manager port request latency by call.",
		Buckets: []float64{.0005, .001, .005, .01, .05, .1, .5, 1, 5},
	}, []string{"call"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "msgo", Name: "build_info", Help: "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": m.version, "goversion": runtime.Version()},
	})
	build.Set(1)
	reg.MustRegister(c.calls, c.duration, build,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "msgo", Name: "users", Help: "Distinct users (type and id) connected to this node.",
		}, func() float64 { return float64(m.app.LocalUsers()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "msgo", Name: "rooms", Help: "Rooms (groups) with a member on this node.",
		}, func() float64 { return float64(m.app.LocalGroups()) }),
	)
	return c
}

// CarryMetrics returns the totals of the manager's counters and histograms
// (msgo_manager_*), for the process that takes over in a reload to
// SeedMetrics: they go on from there instead of starting at zero.
func (m *Manager) CarryMetrics() ([]byte, error) { return m.metrics.reg.Carry() }

// SeedMetrics adds the totals CarryMetrics returned in the process before
// this one; call it once, before the metrics are served.
func (m *Manager) SeedMetrics(b []byte) error { return m.metrics.reg.Seed(b) }

// call names the route a request hit, so that the label set stays bounded
// whatever paths clients make up.
func (m *Manager) call(path string) string {
	switch {
	case m.routes[path].h != nil:
		return path
	case strings.HasPrefix(path, pprofPrefix) && m.pprof != nil:
		return pprofPrefix
	case strings.HasPrefix(path, assetsPrefix) && m.assets != nil:
		return assetsPrefix
	}
	return "other"
}

// ServeHTTP answers one call (see serve) and counts it by call and status.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	m.serve(sw, r)
	call := m.call(r.URL.Path)
	m.metrics.calls.WithLabelValues(call, strconv.Itoa(sw.code)).Inc()
	m.metrics.duration.WithLabelValues(call).Observe(time.Since(start).Seconds())
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (pprof's
// profiles extend their write deadline through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
