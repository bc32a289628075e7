package service

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"msgo/app/kefu/model"
	"msgo/framework"
)

// AgentsGroup is the framework group of every kefu (agent) connection,
// on every node. Connections join it when they connect (Chat.Connect), so
// an agent receives kefu.message without having called anything; the
// manager port's POST /api/send/room {"room":"kefu:agents"} reaches them
// too.
const AgentsGroup = "kefu:agents"

// MessageEvent is the push that carries a stored message.
const MessageEvent = "kefu.message"

// Chat stores messages and delivers them: to every agent and to every
// connection of the message's openid, on every node. It is safe for
// concurrent use.
type Chat struct {
	w   *writer
	log *slog.Logger
}

// Options tunes a Chat; zero values take the defaults.
type Options struct {
	Log      *slog.Logger  // failed deliveries; nil means slog.Default()
	Writers  int           // transactions storing messages at once (DefaultWriters)
	MaxBatch int           // messages per transaction (DefaultMaxBatch)
	Timeout  time.Duration // bound on one transaction (DefaultTimeout)
}

// NewChat returns a Chat over store. It starts o.Writers goroutines that
// store messages; Close stops them.
func NewChat(store *model.Store, o Options) *Chat {
	return &Chat{
		w:   newWriter(store, cmp.Or(o.Writers, DefaultWriters), cmp.Or(o.MaxBatch, DefaultMaxBatch), cmp.Or(o.Timeout, DefaultTimeout)),
		log: cmp.Or(o.Log, slog.Default()),
	}
}

// Close stores the messages already queued and stops the writers; call it
// after the server stopped. Send returns ErrClosed after it.
func (s *Chat) Close() { s.w.close() }

// Send stores m (filling in its id and time, unread) and then pushes it as
// kefu.message to AgentsGroup and to every wechatUser connection of
// m.OpenID, the sender's own connections included; it returns when that
// is done. See Submit.
func (s *Chat) Send(ctx context.Context, app *framework.App, m *model.Message) error {
	done := make(chan error, 1)
	s.Submit(ctx, app, m, func(err error) { done <- err })
	return <-done
}

// Submit is Send without the wait: m is queued for storing and done is
// called with the outcome once m is stored and pushed, or could not be
// stored. Messages submitted at about the same time share a transaction
// (group commit); messages of one openid are stored, numbered and pushed
// in the order they were submitted. When m cannot be stored, done gets why
// (errors.Is(err, db.ErrUnavailable) when the database is out of reach or
// ctx ended first) and nothing is pushed. A push that fails after m was
// stored is logged, not reported: m is stored and history has it.
//
// done runs on a goroutine of the Chat, after the pushes, and must not
// block; it runs on the caller's goroutine when m is refused at once
// (ErrClosed, or ctx ended while the queue was full).
func (s *Chat) Submit(ctx context.Context, app *framework.App, m *model.Message, done func(error)) {
	s.w.submit(&pending{ctx: ctx, m: m, done: func(err error) {
		if err == nil {
			// Stored: delivered even if the sender has gone meanwhile.
			s.push(context.WithoutCancel(ctx), app, m)
		}
		done(err)
	}})
}

// push sends the stored m to the agents and to every connection of its
// openid.
func (s *Chat) push(ctx context.Context, app *framework.App, m *model.Message) {
	f, err := framework.Push(MessageEvent, m)
	if err != nil {
		s.log.Error("kefu: encode message", "id", m.ID, "err", err) // cannot happen for a Message
		return
	}
	// One encoded frame serves both audiences; the two sets are disjoint
	// (agents are type kefu, the user is a wechatUser).
	if err := app.SendToGroup(ctx, AgentsGroup, f); err != nil {
		s.log.Warn("kefu: push to agents failed; the message is stored", "id", m.ID, "err", err)
	}
	if err := app.SendToUser(ctx, framework.TypeWechatUser, m.OpenID, f); err != nil {
		s.log.Warn("kefu: push to the user failed; the message is stored", "id", m.ID, "err", err)
	}
}

// Connect is a framework.ConnectFunc: it puts every kefu connection in
// AgentsGroup before its handshake completes. It leaves other user types
// alone. When the shared store is down the connection still joins the
// group on its own node (pushes from this node reach it) and the failure
// is logged.
func (s *Chat) Connect(ctx context.Context, app *framework.App, cl framework.Client) {
	if cl.Type() != framework.TypeKefu {
		return
	}
	if err := app.JoinGroup(ctx, cl.ID(), AgentsGroup); err != nil {
		s.log.Warn("kefu: agent could not join the agents group", "agent", cl.UserID(), "err", err)
	}
}
