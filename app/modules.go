// Package app lists msgo's modules. It is the one place that knows them: the
// console calls Register once at start, and the route table is frozen after.
// `msgo make module NAME` adds a line here; the list stays readable by hand.
package app

import (
	"log/slog"

	"gorm.io/gorm"

	"msgo/app/index"
	"msgo/app/live"
	"msgo/config"
	"msgo/framework"
)

// Deps is what modules are built from.
type Deps struct {
	DB     *gorm.DB
	Config *config.Config
	Log    *slog.Logger
}

// Register adds every module's routes and close controllers to r. The
// returned stop releases what modules hold (batch writers, bots) and runs
// after the server stopped.
func Register(r *framework.Router, d Deps) (stop func(), err error) {
	var stops []func()
	index.Register(r)
	stops = append(stops, live.Register(r, live.Options{DB: d.DB, Log: d.Log}))
	// msgo:modules (`msgo make module NAME` adds NAME.Register(r) above this line)
	return func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}, nil
}

// Models returns every module's database models, for migrations.
func Models() []any {
	var ms []any
	ms = append(ms, live.Models()...)
	return ms
}
