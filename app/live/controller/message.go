package controller

import (
	"log/slog"
	"time"
	"unicode/utf8"

	"msgo/app/live/model"
	"msgo/app/live/service"
	"msgo/framework"
)

// History limits.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 100
)

// Message is live.message.*: sending to the wall and reading its history.
type Message struct {
	msgs  *service.Messages
	store *model.Store
	mod   *service.Moderation
	log   *slog.Logger
}

// NewMessage returns the Message controller; mod decides which messages
// wait for a moderator (nil: none).
func NewMessage(msgs *service.Messages, store *model.Store, mod *service.Moderation, log *slog.Logger) *Message {
	return &Message{msgs: msgs, store: store, mod: mod, log: log}
}

type sendReply struct {
	Seq  int64 `json:"seq"`
	Time int64 `json:"time"`
}

// heldReply answers a message that went to the moderators, or was dropped:
// the sender cannot tell the two apart, so a filter cannot be probed.
type heldReply struct {
	Held bool `json:"held"`
}

// Send is live.message.send: content (1..500 characters, stored and pushed
// verbatim) becomes the room's next message. It is stored before the reply
// and the live.message push; if it cannot be stored nothing is pushed. The
// reply follows the push. A message moderation holds is stored as held and
// pushed to the room's walls (live.message.held) instead; one it drops is
// neither stored nor pushed; both answer {"held":true}.
func (m *Message) Send(c *framework.Context) error {
	var p struct {
		Content *string `json:"content"`
	}
	room, err := joinedWith(c, &p)
	if err != nil {
		return err
	}
	if p.Content == nil {
		return framework.Errorf(framework.StatusBadRequest, "param content is required")
	}
	if n := utf8.RuneCountInString(*p.Content); n < 1 || n > model.MaxContentLen {
		return framework.Errorf(framework.StatusBadRequest, "param content must be 1 to %d characters, got %d", model.MaxContentLen, n)
	}
	cl := c.Client()
	switch v, word := m.mod.Check(*p.Content); v {
	case service.Drop:
		m.log.Info("live: message dropped", "room", room, "user", cl.UserID(), "word", word)
		return c.Success(okInfo, heldReply{Held: true})
	case service.Hold:
		return m.hold(c, model.Held{Room: room, UserID: cl.UserID(), UserType: cl.Type(),
			Nickname: cl.Nickname(), Content: *p.Content, Word: word})
	}
	// The answer comes once the message's turn has stored it; the worker
	// is not held meanwhile, so a busy room does not tie up the node.
	st, err := c.Stream(c.Method())
	if err != nil {
		return err
	}
	m.msgs.Submit(c.App(), model.Message{
		Room:     room,
		UserID:   cl.UserID(),
		UserType: cl.Type(),
		Nickname: cl.Nickname(),
		Content:  *p.Content,
	}, func(stored model.Message, err error) {
		defer st.Close()
		if err != nil {
			st.Fail(err)
			return
		}
		st.Reply(framework.StatusOK, okInfo, sendReply{Seq: stored.Seq, Time: stored.Time})
	})
	return nil
}

// hold stores h for the moderators, answers the sender and shows h to the
// room's walls.
func (m *Message) hold(c *framework.Context, h model.Held) error {
	app, ctx := c.App(), c.Context()
	h.Time = time.Now().UnixMilli()
	if err := m.store.Hold(ctx, &h); err != nil {
		return err
	}
	if err := c.Success(okInfo, heldReply{Held: true}); err != nil {
		return err
	}
	pushWalls(ctx, app, m.log, h.Room, EventHeld, h)
	return nil
}

type historyReply struct {
	Messages []model.Message `json:"messages"`
}

// History is live.message.history: up to limit (1..100, default 50)
// messages with seq > after_seq (default 0), ascending by seq.
func (m *Message) History(c *framework.Context) error {
	var p struct {
		AfterSeq *int64 `json:"after_seq"`
		Limit    *int   `json:"limit"`
	}
	room, err := joinedWith(c, &p)
	if err != nil {
		return err
	}
	var after int64
	if p.AfterSeq != nil {
		if *p.AfterSeq < 0 {
			return framework.Errorf(framework.StatusBadRequest, "param after_seq must be 0 or more")
		}
		after = *p.AfterSeq
	}
	limit, err := intParam("limit", p.Limit, DefaultHistoryLimit, 1, MaxHistoryLimit)
	if err != nil {
		return err
	}
	msgs, err := m.store.History(c.Context(), room, after, limit)
	if err != nil {
		return err
	}
	return c.Success(okInfo, historyReply{Messages: msgs})
}
