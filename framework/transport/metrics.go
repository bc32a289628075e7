package transport

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the transport's Prometheus collectors: handshakes, connections,
// frames and bytes each way, closes by code, slow consumers.
type Metrics struct {
	connections func() float64
	handshakes  *prometheus.CounterVec
	opens       prometheus.Counter
	framesIn    prometheus.Counter
	bytesIn     prometheus.Counter
	framesOut   prometheus.Counter
	bytesOut    prometheus.Counter
	closes      *prometheus.CounterVec
	slow        prometheus.Counter
	overflows   prometheus.Counter
}

// NewMetrics registers the transport's collectors in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "msgo", Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	vec := func(name, help, label string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "msgo", Name: name, Help: help}, []string{label})
		reg.MustRegister(c)
		return c
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "msgo", Name: "connections", Help: "Open WebSocket connections on this node.",
	}, func() float64 {
		if m.connections == nil {
			return 0
		}
		return m.connections()
	}))
	m.handshakes = vec("handshakes_total", "WebSocket handshakes by result.", "result")
	m.opens = counter("connections_opened_total", "Connections accepted.")
	m.framesIn = counter("frames_in_total", "Messages received from clients.")
	m.bytesIn = counter("bytes_in_total", "Message bytes received from clients.")
	m.framesOut = counter("frames_out_total", "Frames written to clients.")
	m.bytesOut = counter("bytes_out_total", "Frame bytes written to clients.")
	m.closes = vec("closes_total", "Closed connections by close code (1006: no close frame).", "code")
	m.slow = counter("slow_consumer_closes_total", "Connections closed with 1008 for not reading.")
	m.overflows = counter("session_buffer_overflows_total", "Detached sessions ended because their kept frames passed the buffer.")
	return m
}

func (m *Metrics) handshake(result string) { m.handshakes.WithLabelValues(result).Inc() }
func (m *Metrics) opened()                 { m.opens.Inc() }
func (m *Metrics) frameIn(n int)           { m.framesIn.Inc(); m.bytesIn.Add(float64(n)) }
func (m *Metrics) frameOut(n int)          { m.framesOut.Inc(); m.bytesOut.Add(float64(n)) }

// framesOutN counts one frame of size bytes queued for n connections.
func (m *Metrics) framesOutN(n, size int) {
	m.framesOut.Add(float64(n))
	m.bytesOut.Add(float64(n * size))
}
func (m *Metrics) closed(code int) { m.closes.WithLabelValues(strconv.Itoa(code)).Inc() }
func (m *Metrics) slowClose()      { m.slow.Inc() }
func (m *Metrics) overflow()       { m.overflows.Inc() }
