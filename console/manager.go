package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"msgo/config"
	"msgo/framework"
)

// checkManagerBind refuses a manager port off loopback without a token.
func checkManagerBind(listen, token string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("manager.listen: %w", err)
	}
	ip := net.ParseIP(host)
	if token == "" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("manager.listen %s is not loopback: set manager.token (MSGO_MANAGER_TOKEN)", listen)
	}
	return nil
}

// managerHandler serves the manager port.
func managerHandler(srv *framework.Server, cfg *config.Config, ready func(context.Context) error, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"code": 200, "message": "success", "data": map[string]any{
			"pid": os.Getpid(), "node_id": srv.NodeID(), "version": version,
			"uptime": int(time.Since(srv.Started()).Seconds()), "connections": srv.Connections(),
			"goroutines": runtime.NumGoroutine(),
		}})
	})
	return mux
}
