package controller

import (
	"log/slog"

	"msgo/app/live/service"
	"msgo/framework"
)

// Wall is live.wall.*: what only a wall screen does.
type Wall struct {
	log *slog.Logger
}

// NewWall returns the Wall controller.
func NewWall(log *slog.Logger) *Wall { return &Wall{log: log} }

type lotteryReply struct {
	Winners []service.Winner `json:"winners"`
}

// Lottery is live.wall.lottery: min(count, eligible) distinct winners drawn
// among the wechatUsers joined to the room on any node; the reply and the
// live.lottery push to the room carry the same winners.
func (w *Wall) Lottery(c *framework.Context) error {
	var p struct {
		Count *int `json:"count"`
	}
	room, err := joinedWith(c, &p)
	if err != nil {
		return err
	}
	switch {
	case p.Count == nil:
		return framework.Errorf(framework.StatusBadRequest, "param count is required")
	case *p.Count < 1:
		return framework.Errorf(framework.StatusBadRequest, "param count must be 1 or more")
	}
	app, ctx := c.App(), c.Context()
	members, err := app.GroupMembers(ctx, framework.Room(room), 0)
	if err != nil {
		return err
	}
	res := lotteryReply{Winners: service.Draw(members, *p.Count)}
	if err := c.Success(okInfo, res); err != nil {
		return err
	}
	f, err := framework.Push(EventLottery, res)
	if err == nil {
		err = app.SendToGroup(ctx, framework.Room(room), f)
	}
	if err != nil {
		w.log.Warn("live: push lottery", "room", room, "err", err)
	}
	return nil
}
