package manager

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves the registries (the node's, the manager's) in the
// Prometheus text format. A collector that fails does not hide the others.
func metricsHandler(regs ...prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers(regs), promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
