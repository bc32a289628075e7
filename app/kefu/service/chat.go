package service

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"msgo/app/kefu/model"
	"msgo/framework"
)

// AgentsGroup is the internal group of every kefu (agent) connection, on
// every node. Connections join it when they connect (Chat.Connect), so an
// agent receives kefu.message without having called anything. It is not a
// room: no token code and no manager room call reaches it.
var AgentsGroup = framework.InternalGroup("kefu.agents")

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
	Timeout  time.Duration // bound on one transaction, and on its pushes (DefaultTimeout)
}

// NewChat returns a Chat over store. It starts o.Writers goroutines that
// store messages; Close stops them.
func NewChat(store *model.Store, o Options) *Chat {
	s := &Chat{log: cmp.Or(o.Log, slog.Default())}
	s.w = newWriter(store, s.deliver, cmp.Or(o.Writers, DefaultWriters), cmp.Or(o.MaxBatch, DefaultMaxBatch), cmp.Or(o.Timeout, DefaultTimeout))
	return s
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
// (group commit) and are pushed together; messages of one openid are
// stored, numbered and pushed in the order they were submitted. When m
// cannot be stored, done gets why (errors.Is(err, db.ErrUnavailable) when
// the database is out of reach or ctx ended first) and nothing is pushed.
// A stored message is pushed even if ctx ends meanwhile; a push that fails
// is logged, not reported: m is stored and history has it.
//
// done runs on a goroutine of the Chat, after the pushes, and must not
// block; it runs on the caller's goroutine when m is refused at once
// (ErrClosed, or ctx ended while the queue was full).
func (s *Chat) Submit(ctx context.Context, app *framework.App, m *model.Message, done func(error)) {
	s.w.submit(&pending{ctx: ctx, app: app, m: m, done: done})
}

// maxRun bounds the bytes of one concatenated push. A connection's write
// queue holds 1 MiB by default, and a write that overflows it closes the
// connection as too slow to read.
const maxRun = 64 << 10

// deliver pushes the stored messages of one transaction, in order: to the
// agents as runs of frames written at once (framework.Concat: one write
// per agent connection for many messages), and to each openid its own
// messages, likewise.
func (s *Chat) deliver(ctx context.Context, stored []*pending) {
	for len(stored) > 0 {
		app := stored[0].app
		n := 1
		for n < len(stored) && stored[n].app == app {
			n++
		}
		s.push(ctx, app, stored[:n])
		stored = stored[n:]
	}
}

func (s *Chat) push(ctx context.Context, app *framework.App, stored []*pending) {
	all := make([]*framework.Frame, 0, len(stored))
	var openids []string
	byUser := make(map[string][]*framework.Frame)
	for _, p := range stored {
		f, err := framework.Push(MessageEvent, p.m)
		if err != nil {
			s.log.Error("kefu: encode message", "id", p.m.ID, "err", err) // cannot happen for a Message
			continue
		}
		all = append(all, f)
		if _, ok := byUser[p.m.OpenID]; !ok {
			openids = append(openids, p.m.OpenID)
		}
		byUser[p.m.OpenID] = append(byUser[p.m.OpenID], f)
	}
	// The two audiences are disjoint: agents are type kefu, users
	// wechatUser.
	for _, run := range runs(all) {
		if err := app.SendToGroup(ctx, AgentsGroup, run); err != nil {
			s.log.Warn("kefu: push to agents failed; the messages are stored", "err", err)
		}
	}
	for _, id := range openids {
		for _, run := range runs(byUser[id]) {
			if err := app.SendToUser(ctx, framework.TypeWechatUser, id, run); err != nil {
				s.log.Warn("kefu: push to the user failed; the messages are stored", "openid", id, "err", err)
			}
		}
	}
}

// runs joins fs, in order, into frames of at most maxRun bytes each; a
// frame larger than that goes alone.
func runs(fs []*framework.Frame) []*framework.Frame {
	var out []*framework.Frame
	for len(fs) > 0 {
		n, size := 1, len(fs[0].Bytes())
		for n < len(fs) && size+len(fs[n].Bytes()) <= maxRun {
			size += len(fs[n].Bytes())
			n++
		}
		out = append(out, framework.Concat(fs[:n]...))
		fs = fs[n:]
	}
	return out
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
