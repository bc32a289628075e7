package framework

import (
	"cmp"
	"context"
	"slices"
)

// Cluster-wide room operations on a user's connections, for the manager
// port's room calls. Each goes over the bus to the nodes where the user (or
// the group) has connections and counts what they did.

// JoinUser adds every connection of a user (every device, every node; an
// empty typ means every user type with that id) to group g and returns how
// many connections it added or found already in it.
func (a *App) JoinUser(ctx context.Context, typ, id string, g Group) (int, error) {
	return a.push(ctx, Target{User: id, Type: typ}, []byte(g.key), opJoin, 0, true)
}

// LeaveUser removes every connection of a user from group g and returns how
// many were in it.
func (a *App) LeaveUser(ctx context.Context, typ, id string, g Group) (int, error) {
	return a.push(ctx, Target{User: id, Type: typ}, []byte(g.key), opLeave, 0, true)
}

// GroupConnections returns how many connections are in group g across the
// cluster.
func (a *App) GroupConnections(ctx context.Context, g Group) (int, error) {
	return a.push(ctx, Target{Group: g}, nil, opCount, 0, true)
}

// UserRooms returns, sorted, the names of the rooms any connection of a
// user is in across the cluster (an empty typ means every user type with
// that id); internal groups are left out.
func (a *App) UserRooms(ctx context.Context, typ, id string) ([]string, error) {
	types := userTypes
	if typ != "" {
		types = []string{typ}
	}
	seen := map[string]bool{}
	var cs []*conn
	for _, t := range types {
		cs = a.srv.hub.userConns(cs, userKey(t, id))
	}
	for _, c := range cs {
		c.mu.Lock()
		if c.hooks != nil {
			for g := range c.hooks.list.names(hookGroup) {
				seen[g] = true
			}
		}
		c.mu.Unlock()
	}
	nodes, err := a.userNodes(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n == a.node {
			continue
		}
		groups, err := a.store.SMembers(ctx, nodeGroupsKey(n))
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			if seen[g] {
				continue
			}
			for _, t := range types {
				in, err := a.store.SIsMember(ctx, groupUsersKey(g, n), userKey(t, id))
				if err != nil {
					return nil, err
				}
				if in {
					seen[g] = true
					break
				}
			}
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
func (a *App) roomOp(op byte, key string, cs []*conn) int {
	g := Group{key: key}
	ctx, cancel := context.WithTimeout(a.srv.ctx, storeOp)
	defer cancel()
	n := 0
	for _, c := range cs {
		var err error
		if op == opJoin {
			err = a.JoinGroup(ctx, c.id, g)
		} else {
			if !a.InGroup(c.id, g) {
				continue
			}
			err = a.LeaveGroup(ctx, c.id, g)
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
// out. It walks every group under its shard's read lock, so it is meant for
// an operator's screen, not for a request path.
func (a *App) LargestRooms(n int) []RoomSize {
	var out []RoomSize
	var keys []string
	h := a.srv.hub
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for key, gr := range sh.groups {
			name, ok := Group{key: key}.RoomName()
			if !ok {
				continue
			}
			users := len(gr.users)
			if gr.users == nil { // a small group keeps no per-user index
				keys = keys[:0]
				for _, m := range gr.members {
					keys = append(keys, m.ident.key)
				}
				slices.Sort(keys)
				users = len(slices.Compact(keys))
			}
			out = append(out, RoomSize{Room: name, Connections: len(gr.members), Users: users})
		}
		sh.mu.RUnlock()
	}
	slices.SortFunc(out, func(x, y RoomSize) int {
		return cmp.Or(cmp.Compare(y.Connections, x.Connections), cmp.Compare(x.Room, y.Room))
	})
	return out[:min(n, len(out))]
}
