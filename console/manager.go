package main

import (
	"context"
	"log/slog"

	"msgo/app/web"
	"msgo/config"
	"msgo/framework"
	"msgo/framework/manager"
)

// managerHandler serves the manager port (docs/manager-api.md), the admin
// page included, with the pages' shared scripts for its translations.
func managerHandler(srv *framework.Server, cfg *config.Config, ready func(context.Context) error, log *slog.Logger) *manager.Manager {
	return manager.New(manager.Options{
		Server:  srv,
		Token:   cfg.Manager.Token,
		Version: version,
		Ready:   ready,
		Pprof:   cfg.Manager.Pprof,
		Logger:  log,
		Assets:  web.Assets(),

		AllowedOrigins: cfg.Manager.AllowedOrigins,
		AllowedHosts:   cfg.Manager.AllowedHosts,
	})
}
