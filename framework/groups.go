package framework

import (
	"context"
	"strings"
)

// JoinGroup adds a connection to a group (a room or an internal group).
// Joining twice is a no-op.
func (a *App) JoinGroup(ctx context.Context, id ConnID, grp Group) error {
	g := grp.key
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	var added, first, firstOfUser bool
	if !editHooks(c, func(h *hooks) {
		added, first, firstOfUser = a.hub.Join(g, c)
		if added {
			h.list = h.list.with(hookGroup, g)
		}
	}) {
		return ErrConnGone
	}
	if !added {
		return nil
	}
	return a.joined(ctx, c, g, first, firstOfUser)
}

// enter puts c, whose hooks list g already, in group g.
func (a *App) enter(ctx context.Context, c *conn, g string) error {
	added, first, firstOfUser := a.hub.Join(g, c)
	if !added {
		return nil
	}
	return a.joined(ctx, c, g, first, firstOfUser)
}

// joined records in the cluster that c joined g on this node.
func (a *App) joined(ctx context.Context, c *conn, g string, first, firstOfUser bool) error {
	u := userOf(c)
	var users []string
	if firstOfUser {
		users = []string{u}
		if err := a.groups.SetNickname(ctx, u, c.Session().ident.nickname); err != nil {
			a.cluster.Failed("join", err)
			return err
		}
	}
	if first || firstOfUser {
		if err := a.groups.GroupJoined(ctx, g, users); err != nil {
			a.cluster.Failed("join", err)
			return err
		}
	}
	return nil
}

// LeaveGroup removes a connection from a group. It also works from a close
// controller, on a connection that is closing.
func (a *App) LeaveGroup(ctx context.Context, id ConnID, grp Group) error {
	g := grp.key
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	c.Edit(func(ss *session, _ bool) {
		if ss.hooks != nil {
			ss.hooks.list = ss.hooks.list.without(hookGroup, equalTo(g))
		}
	})
	return a.leave(ctx, c, g)
}

func (a *App) leave(ctx context.Context, c *conn, g string) error {
	removed, last, lastOfUser := a.hub.Leave(g, c)
	if !removed || !last && !lastOfUser {
		return nil
	}
	user := ""
	if lastOfUser {
		user = userOf(c)
	}
	if err := a.groups.GroupLeft(ctx, g, user, last); err != nil {
		a.cluster.Failed("leave", err)
		return err
	}
	return nil
}

// InGroup reports whether a local connection is in group g.
func (a *App) InGroup(id ConnID, g Group) bool {
	c := a.srv.tr.Conn(id)
	if c == nil {
		return false
	}
	in := false
	c.Edit(func(ss *session, _ bool) { in = ss.hooks != nil && ss.hooks.list.has(hookGroup, equalTo(g.key)) })
	return in
}

// GroupCount returns how many distinct users (type and id) are in group g
// across the cluster.
func (a *App) GroupCount(ctx context.Context, g Group) (int, error) {
	return a.groups.CountGroupUsers(ctx, g.key)
}

// Member is a user in a group.
type Member struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Type     string `json:"type"`
}

// GroupMembers returns up to limit distinct users of group g across the
// cluster (all when limit <= 0), ordered by type then id.
func (a *App) GroupMembers(ctx context.Context, g Group, limit int) ([]Member, error) {
	users, err := a.groups.GroupUsers(ctx, g.key, limit)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	out := make([]Member, len(users))
	for i, u := range users {
		typ, id, _ := strings.Cut(u.Key, ":")
		out[i] = Member{ID: id, Type: typ, Nickname: u.Nickname}
	}
	return out, nil
}
