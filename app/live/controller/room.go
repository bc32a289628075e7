package controller

import (
	"context"
	"unicode/utf8"

	"msgo/app/live/model"
	"msgo/app/live/service"
	"msgo/framework"
	"msgo/library/encrypt"
)

// Push names of the live module (docs/live.md).
const (
	EventUserJoin  = "live.user.join"
	EventUserLeave = "live.user.leave"
	EventLottery   = "live.lottery"
	// EventHeld carries a held message to the room's walls.
	EventHeld = "live.message.held"
	// EventModerated tells the room's walls a held message was decided.
	EventModerated = "live.message.moderated"
)

// CloseController is the close controller join registers
// (FdAddController), MSwoole's "Live.User".
const CloseController = "Live.User"

// okInfo is the info of every successful live reply.
const okInfo = "success"

// roomOf returns the room of the token: its code. A token without one, or
// with one too long to store, cannot join: 403, the request is not at
// fault but the identity is.
func roomOf(cl framework.Client) (string, error) {
	room := cl.Code()
	switch {
	case room == "":
		return "", framework.Errorf(framework.StatusForbidden, "no room: the token has no code")
	case utf8.RuneCountInString(room) > model.MaxRoomLen:
		return "", framework.Errorf(framework.StatusForbidden, "room code over %d characters", model.MaxRoomLen)
	case utf8.RuneCountInString(cl.UserID()) > model.MaxUserIDLen:
		return "", framework.Errorf(framework.StatusForbidden, "user id over %d characters", model.MaxUserIDLen)
	}
	return room, nil
}

// joined returns the room of a connection that joined it, else 403.
func joined(c *framework.Context) (string, error) {
	cl := c.Client()
	room := cl.Code()
	if room == "" || !c.App().InGroup(cl.ID(), framework.Room(room)) {
		return "", framework.Errorf(framework.StatusForbidden, "join the room first (live.user.join)")
	}
	return room, nil
}

// joinedWith is joined, then the request's params bound into p.
func joinedWith(c *framework.Context, p any) (string, error) {
	room, err := joined(c)
	if err != nil {
		return "", err
	}
	return room, c.Bind(p)
}

// Room answers questions about a room.
type Room struct{}

// Room.Online limits.
const (
	DefaultOnlineLimit = 100
	MaxOnlineLimit     = 1000
)

type onlineReply struct {
	service.RoomCounts
	Users []framework.Member `json:"users"`
}

// Online is live.room.online: how many distinct users are in the room
// cluster-wide (online, and guests of them), and up to limit of them
// (1..1000, default 100), ordered by type then id; type ("wechatUser" or
// "wall") lists only users of that type, so a wall shows who can win its
// lottery.
func (Room) Online(c *framework.Context) error {
	var p struct {
		Limit *int    `json:"limit"`
		Type  *string `json:"type"`
	}
	room, err := joinedWith(c, &p)
	if err != nil {
		return err
	}
	limit, err := intParam("limit", p.Limit, DefaultOnlineLimit, 1, MaxOnlineLimit)
	if err != nil {
		return err
	}
	if p.Type != nil && *p.Type != encrypt.TypeWechatUser && *p.Type != encrypt.TypeWall {
		return framework.Errorf(framework.StatusBadRequest, "param type must be %s or %s", encrypt.TypeWechatUser, encrypt.TypeWall)
	}
	app, ctx := c.App(), c.Context()
	n, err := service.CountRoom(ctx, app, room)
	if err != nil {
		return err
	}
	var users []framework.Member
	if p.Type == nil {
		users, err = app.GroupMembers(ctx, framework.Room(room), limit)
	} else {
		users, err = membersOfType(ctx, app, room, *p.Type, limit)
	}
	if err != nil {
		return err
	}
	if users == nil {
		users = []framework.Member{}
	}
	return c.Success(okInfo, onlineReply{RoomCounts: n, Users: users})
}

// membersOfType returns up to limit users of room of type typ. Walls have a
// group of their own; guests are the room's members that are not walls.
func membersOfType(ctx context.Context, app *framework.App, room, typ string, limit int) ([]framework.Member, error) {
	if typ == encrypt.TypeWall {
		return app.GroupMembers(ctx, service.WallsGroup(room), limit)
	}
	all, err := app.GroupMembers(ctx, framework.Room(room), 0)
	if err != nil {
		return nil, err
	}
	out := make([]framework.Member, 0, min(limit, len(all)))
	for _, m := range all {
		if m.Type == typ && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

// intParam returns *v, or def when the param is absent (or null); a value
// outside lo..hi answers 400 naming the param: limits are never clamped.
func intParam[T int | int64](name string, v *T, def, lo, hi T) (T, error) {
	if v == nil {
		return def, nil
	}
	if *v < lo || *v > hi {
		return 0, framework.Errorf(framework.StatusBadRequest, "param %s must be between %d and %d", name, lo, hi)
	}
	return *v, nil
}
