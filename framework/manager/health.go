package manager

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds /readyz's dependency check: a probe must answer even
// when a dependency hangs.
const readyTimeout = 2 * time.Second

// GET /healthz: the process is alive and serving HTTP.
func (m *Manager) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "success", map[string]string{"status": "alive"})
}

// GET /readyz: 200 while the node accepts connections and its dependencies
// answer; 503 with the reason otherwise, so a load balancer stops sending
// clients to a draining node.
func (m *Manager) readyz(w http.ResponseWriter, r *http.Request) {
	if m.node.Draining() {
		writeError(w, errorf(http.StatusServiceUnavailable, "not ready: draining"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := m.ready(ctx); err != nil {
		writeError(w, errorf(http.StatusServiceUnavailable, "not ready: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, "success", map[string]string{"status": "ready"})
}
