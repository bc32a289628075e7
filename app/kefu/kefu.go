package kefu

import (
	"cmp"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"msgo/app/kefu/bot"
	"msgo/app/kefu/controller"
	"msgo/app/kefu/model"
	"msgo/app/kefu/service"
	"msgo/framework"
)

// Options builds the kefu module.
type Options struct {
	// DB holds chat and chat_session; its tables are created by db.Migrate
	// with Models().
	DB *gorm.DB
	// Log gets the module's warnings; nil means slog.Default().
	Log *slog.Logger
	// FAQ is the path of the bot's FAQ file (YAML or JSON; config kefu.faq,
	// MSGO_KEFU_FAQ); empty means the built-in FAQ.
	FAQ string
	// Bot answers kefu.bot.ask instead of the FAQ bot when set.
	Bot bot.Bot
	// Timeout bounds one request's database work; 0 means
	// controller.DefaultTimeout (5 s).
	Timeout time.Duration
	// Canned are the replies agents insert with a click or with "/" in
	// the console (config kefu.canned; kefu.canned.list). Nil is none.
	Canned []string
	// MaxAnswers bounds the bot answers streaming at once on this node
	// (beyond: 503); 0 means controller.DefaultMaxAnswers (1000). One
	// connection streams at most controller.MaxAnswersPerConn (beyond: 429).
	MaxAnswers int
}

// Models lists the kefu module's tables, for db.Migrate.
func Models() []any { return model.Models() }

// Register adds the kefu routes and the connect function that puts agents
// in their group to r. It fails when the FAQ file cannot be loaded. The
// returned stop waits for bot answers still streaming and stops the
// message writers; call it after the server stopped.
func Register(r *framework.Router, o Options) (stop func(), err error) {
	log := cmp.Or(o.Log, slog.Default())
	b := o.Bot
	if b == nil {
		faq, err := bot.LoadFAQ(o.FAQ)
		if err != nil {
			return nil, err
		}
		b = faq
	}
	store := model.NewStore(o.DB)
	svc := service.NewChat(store, service.Options{Log: log, Timeout: o.Timeout})
	chat := controller.NewChat(svc, store, o.Timeout)
	session := controller.NewSession(store, svc, o.Timeout)
	agents := controller.NewAgent(store, o.Timeout)
	canned := controller.NewCanned(o.Canned)
	asker := controller.NewBot(b, o.MaxAnswers, log)

	both := framework.Allow(framework.TypeWechatUser, framework.TypeKefu)
	r.Handle("kefu.chat.send", chat.Send, both)
	r.Handle("kefu.chat.history", chat.History, both)
	r.Handle("kefu.chat.read", chat.Read, both)
	r.Handle("kefu.chat.unread", chat.Unread, both)
	onlyAgents := framework.Allow(framework.TypeKefu)
	r.Handle("kefu.session.list", session.List, onlyAgents)
	r.Handle("kefu.session.claim", session.Claim, onlyAgents)
	r.Handle("kefu.session.transfer", session.Transfer, onlyAgents)
	r.Handle("kefu.session.release", session.Release, onlyAgents)
	r.Handle("kefu.agent.list", agents.List, onlyAgents)
	r.Handle("kefu.canned.list", canned.List, onlyAgents)
	r.Handle("kefu.bot.ask", asker.Ask, framework.Allow(framework.TypeWechatUser))
	r.OnConnect(svc.Connect)
	return func() {
		asker.Close()
		svc.Close()
	}, nil
}
