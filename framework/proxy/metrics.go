package proxy

import "github.com/prometheus/client_golang/prometheus"

// metrics are the proxy's collectors; Collectors hands them to a registry.
type metrics struct {
	calls    *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	attempts *prometheus.CounterVec
	stored   prometheus.Counter
	pending  prometheus.Gauge
	oldest   prometheus.Gauge
}

func newMetrics() *metrics {
	return &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "msgo", Subsystem: "proxy", Name: "calls_total",
			Help: "Backend calls by call (connect, rpc, disconnect; queue for refusals at a full queue) and result.",
		}, []string{"call", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "msgo", Subsystem: "proxy", Name: "call_seconds", Help: "Backend call latency by call.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"call"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "msgo", Subsystem: "proxy", Name: "disconnect_attempts_total",
			Help: "Disconnect event deliveries by result (delivered, failed, expired).",
		}, []string{"result"}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "msgo", Subsystem: "proxy", Name: "disconnect_events_stored_total", Help: "Disconnect events stored by this node.",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "msgo", Subsystem: "proxy", Name: "disconnect_events_pending", Help: "Disconnect events waiting for the backend (every node's, as this node last read them).",
		}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "msgo", Subsystem: "proxy", Name: "disconnect_oldest_pending_seconds", Help: "Age of the oldest disconnect event waiting for the backend.",
		}),
	}
}

// Collectors returns the proxy's metrics, to register where /metrics serves them.
func (p *Proxy) Collectors() []prometheus.Collector {
	m := p.metrics
	return []prometheus.Collector{m.calls, m.seconds, m.attempts, m.stored, m.pending, m.oldest}
}
