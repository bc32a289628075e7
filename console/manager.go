package main

import (
	"context"
	"log/slog"
	"net/http"

	"msgo/config"
	"msgo/framework"
	"msgo/framework/manager"
)

// managerHandler serves the manager port (PROTOCOL.md section 6).
func managerHandler(srv *framework.Server, cfg *config.Config, ready func(context.Context) error, log *slog.Logger) http.Handler {
	return manager.New(manager.Options{
		Server:  srv,
		Token:   cfg.Manager.Token,
		Version: version,
		Ready:   ready,
		Pprof:   cfg.Manager.Pprof,
		Logger:  log,

		AllowedOrigins: cfg.Manager.AllowedOrigins,
		AllowedHosts:   cfg.Manager.AllowedHosts,
	})
}
