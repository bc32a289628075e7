package controller

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"msgo/app/live/model"
	"msgo/app/live/service"
	"msgo/framework"
)

// Moderation limits.
const (
	DefaultPendingLimit = 50
	MaxPendingLimit     = 100
)

// restoreTimeout bounds putting a held message back after its approval
// failed to store it.
const restoreTimeout = 5 * time.Second

// Moderation is live.moderation.*: a wall (the wall screen's operator, or a
// moderator page with a wall token) lists the held messages and approves or
// rejects them.
type Moderation struct {
	msgs  *service.Messages
	store *model.Store
	mod   *service.Moderation
	log   *slog.Logger
}

// NewModeration returns the Moderation controller.
func NewModeration(msgs *service.Messages, store *model.Store, mod *service.Moderation, log *slog.Logger) *Moderation {
	return &Moderation{msgs: msgs, store: store, mod: mod, log: log}
}

type pendingReply struct {
	Mode     string       `json:"mode"`
	Messages []model.Held `json:"messages"`
}

// Pending is live.moderation.pending: the room's moderation mode and up to
// limit (1..100, default 50) held messages with held_id > after_id
// (default 0), oldest first.
func (m *Moderation) Pending(c *framework.Context) error {
	var p struct {
		AfterID *int64 `json:"after_id"`
		Limit   *int   `json:"limit"`
	}
	room, err := joinedWith(c, &p)
	if err != nil {
		return err
	}
	after, err := intParam("after_id", p.AfterID, 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := intParam("limit", p.Limit, DefaultPendingLimit, 1, MaxPendingLimit)
	if err != nil {
		return err
	}
	held, err := m.store.Held(c.Context(), room, after, limit)
	if err != nil {
		return err
	}
	return c.Success(okInfo, pendingReply{Mode: m.mod.Mode(), Messages: held})
}

// moderated is the live.message.moderated push: a held message left the
// queue, approved (with the seq it got on the wall) or rejected.
type moderated struct {
	HeldID   int64  `json:"held_id"`
	Decision string `json:"decision"` // "approved" or "rejected"
	Seq      int64  `json:"seq,omitempty"`
}

// take reads the held_id param and takes that held message out of the
// queue; one that is not waiting (another moderator decided it) is 400.
func (m *Moderation) take(c *framework.Context) (model.Held, error) {
	var p struct {
		HeldID *int64 `json:"held_id"`
	}
	room, err := joinedWith(c, &p)
	if err != nil {
		return model.Held{}, err
	}
	if p.HeldID == nil {
		return model.Held{}, framework.Errorf(framework.StatusBadRequest, "param held_id is required")
	}
	h, err := m.store.Take(c.Context(), room, *p.HeldID)
	if errors.Is(err, model.ErrNotHeld) {
		return h, framework.Errorf(framework.StatusBadRequest, "held message %d is not waiting: decided already, or not of this room", *p.HeldID)
	}
	return h, err
}

// Approve is live.moderation.approve: the held message becomes the room's
// next wall message, stored and pushed (live.message) as if it had just been
// sent, so seq stays gap-free and history holds approved messages only. The
// reply is {"seq","time"}; then the walls get live.message.moderated. If it
// cannot be stored it goes back to the queue and the answer is 503.
func (m *Moderation) Approve(c *framework.Context) error {
	h, err := m.take(c)
	if err != nil {
		return err
	}
	st, err := c.Stream(c.Method())
	if err != nil {
		return errors.Join(err, m.restore(h))
	}
	app := c.App()
	m.msgs.Submit(app, h.Message(), func(stored model.Message, err error) {
		if err != nil {
			// Back in the queue before the moderator hears of the failure,
			// so a retry finds it; done must not block the room's turns.
			go func() {
				defer st.Close()
				m.restore(h)
				st.Fail(err)
			}()
			return
		}
		defer st.Close()
		st.Reply(framework.StatusOK, okInfo, sendReply{Seq: stored.Seq, Time: stored.Time})
		go pushWalls(context.Background(), app, m.log, h.Room, EventModerated,
			moderated{HeldID: h.HeldID, Decision: "approved", Seq: stored.Seq})
	})
	return nil
}

// Reject is live.moderation.reject: the held message is deleted; the reply
// is {"held_id"} and the walls get live.message.moderated.
func (m *Moderation) Reject(c *framework.Context) error {
	h, err := m.take(c)
	if err != nil {
		return err
	}
	res := moderated{HeldID: h.HeldID, Decision: "rejected"}
	if err := c.Success(okInfo, struct {
		HeldID int64 `json:"held_id"`
	}{h.HeldID}); err != nil {
		return err
	}
	pushWalls(c.Context(), c.App(), m.log, h.Room, EventModerated, res)
	return nil
}

// restore puts h back in the queue; a failure is logged, since the answer
// (an error) is already on its way.
func (m *Moderation) restore(h model.Held) error {
	ctx, cancel := context.WithTimeout(context.Background(), restoreTimeout)
	defer cancel()
	err := m.store.Restore(ctx, h)
	if err != nil {
		m.log.Error("live: held message lost after a failed approval", "room", h.Room, "held_id", h.HeldID, "err", err)
	}
	return err
}

// pushWalls sends event to the room's walls; a failure is logged.
func pushWalls(ctx context.Context, app *framework.App, log *slog.Logger, room, event string, param any) {
	f, err := framework.Push(event, param)
	if err == nil {
		err = app.SendToGroup(ctx, service.WallsGroup(room), f)
	}
	if err != nil {
		log.Warn("live: push "+event, "room", room, "err", err)
	}
}
