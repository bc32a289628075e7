package controller

import (
	"context"
	"errors"
	"log/slog"

	"msgo/app/live/service"
	"msgo/framework"
	"msgo/library/encrypt"
)

// User is live.user.*: joining and leaving a room, and the Live.User close
// controller that makes a disconnect count as leaving.
//
// Who joined and who left is pushed to the room's walls only (service.WallsGroup);
// every member learns the count from live.room.count, at most once a
// second (service.Counts). So a room of N filling up costs N pushes per
// wall, not N²/2.
type User struct {
	log    *slog.Logger
	counts *service.Counts
}

// NewUser returns the User controller; counts pushes the rooms' counts.
func NewUser(log *slog.Logger, counts *service.Counts) *User {
	return &User{log: log, counts: counts}
}

type roomReply struct {
	Room string `json:"room"`
	service.RoomCounts
}

// presence is the param of live.user.join and live.user.leave pushes.
type presence struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Type     string `json:"type"`
	service.RoomCounts
}

// Join is live.user.join: the connection joins the room of its token's
// code, registers the room's close key and the Live.User close controller,
// and live.user.join is pushed to the room's walls. Joining
// again answers the same reply and pushes nothing.
func (u *User) Join(c *framework.Context) error {
	cl := c.Client()
	room, err := roomOf(cl)
	if err != nil {
		return err
	}
	app, ctx := c.App(), c.Context()
	if app.InGroup(cl.ID(), framework.Room(room)) {
		n, err := service.CountRoom(ctx, app, room)
		if err != nil {
			return err
		}
		return c.Success(okInfo, roomReply{Room: room, RoomCounts: n})
	}
	n, err := u.join(ctx, app, cl, room)
	if err != nil {
		return err
	}
	if err := c.Success(okInfo, roomReply{Room: room, RoomCounts: n}); err != nil {
		return err
	}
	u.push(ctx, app, room, EventUserJoin, cl, n)
	return nil
}

// join does the registrations (a wall also joins the room's walls group)
// and counts the room; if any step fails it undoes them, so a 503 leaves
// the connection out of the room.
func (u *User) join(ctx context.Context, app *framework.App, cl framework.Client, room string) (service.RoomCounts, error) {
	var n service.RoomCounts
	id := cl.ID()
	err := app.JoinGroup(ctx, id, framework.Room(room))
	if err == nil && cl.Type() == encrypt.TypeWall {
		err = app.JoinGroup(ctx, id, service.WallsGroup(room))
	}
	if err == nil {
		err = app.FdAddCloseKey(ctx, id, service.RoomKey(room))
	}
	if err == nil {
		err = app.FdAddController(id, CloseController)
	}
	if err == nil {
		n, err = service.CountRoom(ctx, app, room)
	}
	if err != nil {
		_, undo := u.leave(ctx, app, id, room)
		return service.RoomCounts{}, errors.Join(err, undo)
	}
	return n, nil
}

// Leave is live.user.leave: the connection leaves its room, and
// live.user.leave is pushed to the room's walls.
func (u *User) Leave(c *framework.Context) error {
	room, err := joined(c)
	if err != nil {
		return err
	}
	cl := c.Client()
	app, ctx := c.App(), c.Context()
	n, err := u.leave(ctx, app, cl.ID(), room)
	if err != nil {
		return err
	}
	if err := c.Success(okInfo, roomReply{Room: room, RoomCounts: n}); err != nil {
		return err
	}
	u.push(ctx, app, room, EventUserLeave, cl, n)
	return nil
}

// leave undoes join and counts who is left. Every step runs even if one
// fails: the connection is out of the room on this node either way, and
// the store is set right by the framework once it is back.
func (u *User) leave(ctx context.Context, app *framework.App, id framework.ConnID, room string) (service.RoomCounts, error) {
	err := errors.Join(
		app.FdRemoveController(id, CloseController),
		app.FdRemoveCloseKey(ctx, id, service.RoomKey(room)),
		app.LeaveGroup(ctx, id, service.WallsGroup(room)), // a no-op for guests
		app.LeaveGroup(ctx, id, framework.Room(room)),
	)
	if err != nil {
		return service.RoomCounts{}, err
	}
	return service.CountRoom(ctx, app, room)
}

// OnClose is the Live.User close controller: a joined connection that
// closes, however it closes, leaves its room, and live.user.leave is pushed
// once. It is registered only while the connection is joined (Leave removes
// it), so an explicit leave and a disconnect never both push.
func (u *User) OnClose(ctx context.Context, app *framework.App, cl framework.Client) {
	room := cl.Code()
	// The framework removes the close key itself once this returns.
	err := errors.Join(app.LeaveGroup(ctx, cl.ID(), service.WallsGroup(room)), app.LeaveGroup(ctx, cl.ID(), framework.Room(room)))
	if err != nil {
		u.log.Warn("live: leave on close", "room", room, "err", err)
		return
	}
	n, err := service.CountRoom(ctx, app, room)
	if err != nil {
		u.log.Warn("live: count room on close", "room", room, "err", err)
		return
	}
	u.push(ctx, app, room, EventUserLeave, cl, n)
}

// push sends a presence change to the room's walls and has the count
// pushed to every member. Presence pushes are not ordered with messages,
// and a failure is logged: the change happened.
func (u *User) push(ctx context.Context, app *framework.App, room, event string, cl framework.Client, n service.RoomCounts) {
	u.counts.Changed(app, room)
	f, err := framework.Push(event, presence{ID: cl.UserID(), Nickname: cl.Nickname(), Type: cl.Type(), RoomCounts: n})
	if err == nil {
		err = app.SendToGroup(ctx, service.WallsGroup(room), f)
	}
	if err != nil {
		u.log.Warn("live: push "+event, "room", room, "err", err)
	}
}
