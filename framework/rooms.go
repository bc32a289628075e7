package framework

import (
	"cmp"
	"context"
	"slices"

	"msgo/framework/cluster"
)

// Cluster-wide room operations on a user's connections, for the manager
// port's room calls. Each goes over the bus to the nodes where the user (or
// the group) has connections and counts what they did.

// JoinUser adds every connection of a user (every device, every node; an
// empty typ means every user type with that id) to group g and returns how
// many connections it added or found already in it.
func (a *App) JoinUser(ctx context.Context, typ, id string, g Group) (int, error) {
	return a.push(ctx, Target{User: id, Type: typ}, []byte(g.key), cluster.OpJoin, 0, true)
}

// LeaveUser removes every connection of a user from group g and returns how
// many were in it.
func (a *App) LeaveUser(ctx context.Context, typ, id string, g Group) (int, error) {
	return a.push(ctx, Target{User: id, Type: typ}, []byte(g.key), cluster.OpLeave, 0, true)
}

// GroupConnections returns how many connections are in group g across the
// cluster.
func (a *App) GroupConnections(ctx context.Context, g Group) (int, error) {
	return a.push(ctx, Target{Group: g}, nil, cluster.OpCount, 0, true)
}

// UserRooms returns, sorted, the names of the rooms any connection of a
// user is in across the cluster (an empty typ means every user type with
// that id); internal groups are left out.
func (a *App) UserRooms(ctx context.Context, typ, id string) ([]string, error) {
	types := a.srv.cfg.UserTypes
	if typ != "" {
		types = []string{typ}
	}
	users := make([]string, len(types))
	var cs []*conn
	for i, t := range types {
		users[i] = userKey(t, id)
		cs = a.hub.UserMembers(cs, users[i])
	}
	seen := map[string]bool{}
	for _, c := range cs {
		c.Edit(func(ss *session, _ bool) {
			if ss.hooks != nil {
				for g := range ss.hooks.list.names(hookGroup) {
					seen[g] = true
				}
			}
		})
	}
	nodes, err := a.userNodes(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n == a.node {
			continue
		}
		groups, err := a.groups.UserGroups(ctx, n, users)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			seen[g] = true
		}
	}
	out := make([]string, 0, len(seen))
	for key := range seen {
		if name, ok := (Group{key: key}).RoomName(); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// roomOp does opJoin or opLeave of group g for this node's connections cs
// and returns how many it joined (or found joined) or removed.
func (a *App) roomOp(op cluster.Op, key string, cs []*conn) int {
	g := Group{key: key}
	ctx, cancel := context.WithTimeout(a.srv.ctx, cluster.StoreOp)
	defer cancel()
	n := 0
	for _, c := range cs {
		var err error
		if op == cluster.OpJoin {
			err = a.JoinGroup(ctx, c.ID(), g)
		} else {
			if !a.InGroup(c.ID(), g) {
				continue
			}
			err = a.LeaveGroup(ctx, c.ID(), g)
		}
		if err == nil {
			n++
		}
	}
	return n
}

// RoomSize is one room's size on this node.
type RoomSize struct {
	Room        string `json:"room"`
	Connections int    `json:"connections"`
	Users       int    `json:"users"` // distinct users (type and id)
}

// LargestRooms returns this node's n largest rooms by connections, largest
// first (ties by name); modules' internal groups are not rooms and are left
// out. It walks every group of the hub, so it is meant for
// an operator's screen, not for a request path.
func (a *App) LargestRooms(n int) []RoomSize {
	var out []RoomSize
	for _, g := range a.hub.GroupSizes() {
		if name, ok := (Group{key: g.Name}).RoomName(); ok {
			out = append(out, RoomSize{Room: name, Connections: g.Members, Users: g.Users})
		}
	}
	slices.SortFunc(out, func(x, y RoomSize) int {
		return cmp.Or(cmp.Compare(y.Connections, x.Connections), cmp.Compare(x.Room, y.Room))
	})
	return out[:min(n, len(out))]
}
