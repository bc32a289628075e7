package live

import (
	"cmp"
	"log/slog"

	"gorm.io/gorm"

	"msgo/app/live/controller"
	"msgo/app/live/model"
	"msgo/app/live/service"
	"msgo/framework"
	"msgo/library/encrypt"
)

// Options builds the live module.
type Options struct {
	// DB holds live_message; its tables are created by db.Migrate with
	// Models().
	DB *gorm.DB
	// Log gets the module's warnings; nil means slog.Default().
	Log *slog.Logger
	// Messages tunes the message pipeline; zero values take its defaults.
	Messages service.Options
	// Moderation decides which messages wait for a moderator; the zero
	// value holds none.
	Moderation Moderation
	// CountBudget is how many live.room.count frames a room's count may
	// cost a second; a larger room gets its count less often. Zero means
	// service.CountBudget.
	CountBudget int
}

// Moderation is the live.moderation setting: Mode "off" (or empty) or
// "hold_all"; a message containing one of HoldWords is held whatever the
// mode, one containing one of DropWords is thrown away (docs/live.md).
type Moderation struct {
	Mode      string
	HoldWords []string
	DropWords []string
}

// Models lists the live module's tables, for db.Migrate.
func Models() []any { return model.Models() }

// Register adds the live routes and the Live.User close controller to r. The
// returned stop waits for messages being stored and pushed and releases the
// batch writer; call it after the server stopped. An unknown moderation
// mode panics: it is a configuration mistake caught at start.
func Register(r *framework.Router, o Options) (stop func()) {
	log := cmp.Or(o.Log, slog.Default())
	mod, err := service.NewModeration(o.Moderation.Mode, o.Moderation.HoldWords, o.Moderation.DropWords)
	if err != nil {
		panic(err)
	}
	store := model.NewStore(o.DB)
	writer := model.NewWriter(store, 0, 0)
	mo := o.Messages
	mo.Log = cmp.Or(mo.Log, log)
	msgs := service.NewMessages(store, writer, mo)

	counts := service.NewCounts(log, o.CountBudget)
	user := controller.NewUser(log, counts)
	message := controller.NewMessage(msgs, store, mod, log)
	moderation := controller.NewModeration(msgs, store, mod, log)
	wall := controller.NewWall(log)
	var room controller.Room

	both := framework.Allow(encrypt.TypeWechatUser, encrypt.TypeWall)
	r.Handle("live.user.join", user.Join, both)
	r.Handle("live.user.leave", user.Leave, both)
	r.Handle("live.message.send", message.Send, framework.Allow(encrypt.TypeWechatUser))
	r.Handle("live.message.history", message.History, both)
	r.Handle("live.room.online", room.Online, both)
	walls := framework.Allow(encrypt.TypeWall)
	r.Handle("live.wall.lottery", wall.Lottery, walls)
	r.Handle("live.moderation.pending", moderation.Pending, walls)
	r.Handle("live.moderation.approve", moderation.Approve, walls)
	r.Handle("live.moderation.reject", moderation.Reject, walls)
	r.OnClose(controller.CloseController, user.OnClose)

	return func() {
		counts.Close()
		msgs.Close()
		writer.Close()
	}
}
