// Package app lists msgo's modules. It is the one place that knows them: the
// console calls Register once at start, and the route table is frozen after.
// `msgo make module NAME` adds a line here; the list stays readable by hand.
package app

import (
	"io/fs"
	"log/slog"

	"gorm.io/gorm"

	"msgo/app/index"
	"msgo/app/kefu"
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
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	index.Register(r)
	var kc config.Kefu
	var mod live.Moderation
	if d.Config != nil {
		kc = d.Config.Kefu
		m := d.Config.Live.Moderation
		mod = live.Moderation{Mode: m.Mode, HoldWords: m.HoldWords, DropWords: m.DropWords}
	}
	stops = append(stops, live.Register(r, live.Options{DB: d.DB, Log: d.Log, Moderation: mod}))
	stopKefu, err := kefu.Register(r, kefu.Options{DB: d.DB, Log: d.Log, FAQ: kc.FAQ, Canned: kc.Canned})
	if err != nil {
		stopAll()
		return nil, err
	}
	stops = append(stops, stopKefu)
	// msgo:modules (`msgo make module NAME` adds NAME.Register(r) above this line)
	return stopAll, nil
}

// Pages returns the modules' web pages by module name, served at
// /<module>/<page> on the WebSocket port.
func Pages() map[string]fs.FS {
	return map[string]fs.FS{"live": live.Pages(), "kefu": kefu.Pages()}
}

// Models returns every module's database models, for migrations.
func Models() []any {
	var ms []any
	ms = append(ms, live.Models()...)
	ms = append(ms, kefu.Models()...)
	return ms
}
