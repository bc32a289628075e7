package framework

import (
	"msgo/framework/transport"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a server's Prometheus collectors (the transport's and its own), in a registry of its own (no
// global registry: two servers in one process, as in tests, do not collide).
type Metrics struct {
	Registry *prometheus.Registry // msgo's own collectors (see Gather for all)
	runtime  *prometheus.Registry // the Go runtime's and the process's

	transport   *transport.Metrics // connections, handshakes, frames, closes
	latency     *prometheus.HistogramVec
	statuses    *prometheus.CounterVec
	byStatus    map[int]prometheus.Counter // the protocol's statuses, resolved once
	limited     prometheus.Counter
	busErrors   prometheus.Counter
	storeErrors prometheus.Counter
	depErrors   prometheus.Counter
	reloadPause prometheus.Gauge
	own         *Carried // Registry, with the totals of the process before a reload
	opened      prometheus.Counter
	resumed     prometheus.Counter
	expired     prometheus.Counter
	refused     *prometheus.CounterVec
}

func newMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), runtime: prometheus.NewRegistry()}
	m.own = NewCarried(m.Registry)
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "msgo", Name: name, Help: help})
		m.Registry.MustRegister(c)
		return c
	}
	vec := func(name, help, label string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "msgo", Name: name, Help: help}, []string{label})
		m.Registry.MustRegister(c)
		return c
	}
	m.runtime.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m.transport = transport.NewMetrics(m.Registry)
	m.statuses = vec("replies_total", "Replies by status.", "status")
	m.byStatus = make(map[int]prometheus.Counter)
	for _, code := range []int{StatusOK, StatusBadRequest, StatusForbidden, StatusNotFound, StatusTooMany, StatusInternal, StatusUnavailable} {
		m.byStatus[code] = m.statuses.WithLabelValues(strconv.Itoa(code))
	}
	m.limited = counter("rate_limited_total", "Messages refused with 429.")
	m.busErrors = counter("bus_publish_errors_total", "Cross-node publishes that failed.")
	m.storeErrors = counter("store_errors_total", "Shared store operations that failed.")
	m.depErrors = counter("dependency_errors_total", "Requests answered 503 because a dependency was down.")
	m.reloadPause = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "msgo", Name: "reload_pause_seconds",
		Help: "How long the reload that started this process read no client frame (0: not started by a reload)."})
	m.Registry.MustRegister(m.reloadPause)
	m.opened = counter("sessions_opened_total", "Resumable sessions opened.")
	m.resumed = counter("sessions_resumed_total", "Sessions resumed on a new connection.")
	m.expired = counter("sessions_expired_total", "Sessions that ended detached: their window passed or their buffer overflowed.")
	m.refused = vec("sessions_refused_total", "Resumes refused: unknown (no such session here), user (another user's, 403), gone (ended or frames no longer kept).", "reason")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "msgo", Name: "handler_seconds", Help: "Handler latency by method.",
		Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1},
	}, []string{"method"})
	m.Registry.MustRegister(m.latency)
	return m
}

func (m *Metrics) status(code int) {
	if c, ok := m.byStatus[code]; ok {
		c.Inc() // no label formatting and hashing per reply
		return
	}
	m.statuses.WithLabelValues(strconv.Itoa(code)).Inc()
}
func (m *Metrics) rateLimited() { m.limited.Inc() }
func (m *Metrics) busError()    { m.busErrors.Inc() }
func (m *Metrics) storeError()  { m.storeErrors.Inc() }

// ReloadPaused records the pause of the reload that started this process.
func (m *Metrics) ReloadPaused(d time.Duration) { m.reloadPause.Set(d.Seconds()) }
func (m *Metrics) sessionOpened()               { m.opened.Inc() }
func (m *Metrics) sessionResumed()              { m.resumed.Inc() }
func (m *Metrics) sessionExpired()              { m.expired.Inc() }
func (m *Metrics) sessionRefused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// DependencyError counts a request refused because a dependency was down.
func (m *Metrics) DependencyError() { m.depErrors.Inc() }

// observe times a route's handler. The start is kept in the Context, so
// middleware that wants the time taken (AccessLog) reads no clock of its own.
func (m *Metrics) observe(method string, next Handler) Handler {
	h := m.latency.WithLabelValues(method)
	return func(c *Context) error {
		c.start = time.Now()
		err := next(c)
		h.Observe(time.Since(c.start).Seconds())
		return err
	}
}
