package manager

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"msgo/framework"
)

// metricsHandler serves the node's metrics (with the totals carried over a
// reload) in the Prometheus text format.
// A collector that fails does not hide the others.
func metricsHandler(m *framework.Metrics) http.Handler {
	return promhttp.HandlerFor(m, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
