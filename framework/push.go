package framework

import (
	"context"
	"fmt"
	"msgo/framework/cluster"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// deliverLocal writes frame to this node's targets of one envelope kind and
// returns how many connections it reached.
func (a *App) deliverLocal(op cluster.Op, target string, frame []byte, code uint64) int {
	lp := connLists.Get().(*[]*conn)
	cs := (*lp)[:0]
	h := a.hub
	switch op {
	case cluster.OpUser, cluster.OpDisconnect, cluster.OpJoin, cluster.OpLeave:
		if id, ok := strings.CutPrefix(target, "*:"); ok {
			for _, t := range a.srv.cfg.UserTypes {
				cs = h.UserMembers(cs, userKey(t, id))
			}
		} else {
			cs = h.UserMembers(cs, target)
		}
	case cluster.OpGroup, cluster.OpCount:
		cs = h.GroupMembers(cs, target)
	case cluster.OpAll:
		a.srv.tr.Each(func(c *conn) {
			if target == "" || c.Session().ident.id() != target {
				cs = append(cs, c)
			}
		})
	case cluster.OpConn:
		id, _ := strconv.ParseUint(target, 10, 64)
		if c := a.srv.tr.Conn(ConnID(id)); c != nil {
			cs = append(cs, c)
		}
	}
	n := 0
	switch op {
	case cluster.OpCount:
		n = len(cs)
	case cluster.OpJoin, cluster.OpLeave:
		n = a.roomOp(op, string(frame), cs)
	case cluster.OpDisconnect:
		for _, c := range cs {
			c.Close(int(code), "disconnected by the server")
			n++
		}
	default:
		n = a.srv.tr.Fanout(cs, frame)
	}
	clear(cs)
	*lp = cs[:0]
	connLists.Put(lp)
	return n
}

// conns lists are borrowed from a pool for pushes.
var connLists = sync.Pool{New: func() any { s := make([]*conn, 0, 64); return &s }}

// userTarget is the envelope target for a user: "type:id", or "*:id" for
// every type when typ is empty.
func userTarget(typ, id string) string {
	if typ == "" {
		return "*:" + id
	}
	return userKey(typ, id)
}

// userNodes returns the nodes where a user has connections.
func (a *App) userNodes(ctx context.Context, typ, id string) ([]string, error) {
	if typ != "" {
		return a.presence.UserNodes(ctx, userKey(typ, id))
	}
	keys := make([]string, len(a.srv.cfg.UserTypes))
	for i, t := range a.srv.cfg.UserTypes {
		keys[i] = userKey(t, id)
	}
	return a.presence.UserNodes(ctx, keys...)
}

// Target names who a push goes to.
type Target struct {
	// Exactly one of these kinds is set.
	User    string // user id; Type narrows it to one user type
	Type    string
	Group   Group
	All     bool
	Exclude string // with All: a user id to leave out
}

// Push writes f to every connection t names, on every node, and returns how
// many connections it reached. Other nodes' counts are awaited (up to a
// second); use the Send* methods when the count is not needed.
func (a *App) Push(ctx context.Context, t Target, f *Frame) (int, error) {
	return a.push(ctx, t, f.b, opFor(t), 0, true)
}

func opFor(t Target) cluster.Op {
	switch {
	case t.All:
		return cluster.OpAll
	case t.Group != Group{}:
		return cluster.OpGroup
	default:
		return cluster.OpUser
	}
}

func (a *App) push(ctx context.Context, t Target, frame []byte, op cluster.Op, code uint64, wait bool) (int, error) {
	var target string
	var nodes []string
	var err error
	switch op {
	case cluster.OpAll:
		target = t.Exclude
		nodes, err = a.liveNodeIDs(ctx)
	case cluster.OpGroup, cluster.OpCount:
		target = t.Group.key
		nodes, err = a.groups.GroupNodes(ctx, target)
	default:
		target = userTarget(t.Type, t.User)
		nodes, err = a.userNodes(ctx, t.Type, t.User)
	}
	n := a.deliverLocal(op, target, frame, code)
	if err != nil {
		a.srv.metrics.busError()
		return n, fmt.Errorf("framework: find target nodes: %w", err)
	}
	remote := slices.DeleteFunc(nodes, func(x string) bool { return x == a.node })
	if len(remote) == 0 {
		return n, nil
	}
	m, err := a.bus.Send(ctx, op, target, code, frame, remote, wait)
	return n + m, err
}

// SendToGroup pushes f to every connection in group g, on every node.
func (a *App) SendToGroup(ctx context.Context, g Group, f *Frame) error {
	_, err := a.push(ctx, Target{Group: g}, f.b, cluster.OpGroup, 0, false)
	return err
}

// SendToUser pushes f to every connection of a user (every device, every
// node); an empty typ means every user type with that id.
func (a *App) SendToUser(ctx context.Context, typ, id string, f *Frame) error {
	_, err := a.push(ctx, Target{User: id, Type: typ}, f.b, cluster.OpUser, 0, false)
	return err
}

// Broadcast pushes f to every connection on every node.
func (a *App) Broadcast(ctx context.Context, f *Frame) error {
	_, err := a.push(ctx, Target{All: true}, f.b, cluster.OpAll, 0, false)
	return err
}

// SendTo pushes f to one connection anywhere in the cluster, on the node
// its session moved to if it did (one store read unless it is here).
func (a *App) SendTo(ctx context.Context, to Addr, f *Frame) error {
	node := to.Node
	if node != a.node || a.srv.tr.Conn(to.ID) == nil {
		at, moved, err := a.routes.Route(ctx, to.String())
		if err != nil {
			return fmt.Errorf("framework: find connection %s: %w", to, err)
		}
		if moved {
			node = at
		}
	}
	if node == a.node {
		return a.Send(to.ID, f)
	}
	_, err := a.bus.Send(ctx, cluster.OpConn, strconv.FormatUint(uint64(to.ID), 10), 0, f.b, []string{node}, false)
	return err
}

// DisconnectUser closes every connection of a user, on every node, with code
// (1008 when 0), and returns how many it closed.
func (a *App) DisconnectUser(ctx context.Context, typ, id string, code int) (int, error) {
	if code == 0 {
		code = 1008
	}
	return a.push(ctx, Target{User: id, Type: typ}, nil, cluster.OpDisconnect, uint64(code), true)
}
