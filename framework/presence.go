package framework

import (
	"context"
	"slices"
	"strconv"
	"strings"
)

// IsOnline reports whether a user has a connection on any node; an empty typ
// means any user type.
func (a *App) IsOnline(ctx context.Context, typ, id string) (bool, error) {
	nodes, err := a.userNodes(ctx, typ, id)
	return len(nodes) > 0, err
}

// UserRef is an online user.
type UserRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// OnlineUsers returns every online user on every live node, each once however
// many devices; typ filters by user type when not empty.
func (a *App) OnlineUsers(ctx context.Context, typ string) ([]UserRef, error) {
	nodes, err := a.liveNodeIDs(ctx)
	if err != nil {
		return nil, err
	}
	us, err := a.presence.OnlineUsers(ctx, nodes)
	if err != nil {
		return nil, err
	}
	slices.Sort(us)
	out := []UserRef{}
	for _, u := range us {
		t, id, _ := strings.Cut(u, ":")
		if typ == "" || t == typ {
			out = append(out, UserRef{ID: id, Type: t})
		}
	}
	return out, nil
}

// OnlineCount returns connections and distinct users across live nodes. Other
// nodes' connection counts are as of their last heartbeat (2 s).
func (a *App) OnlineCount(ctx context.Context) (conns, users int, err error) {
	infos, err := a.cluster.LiveNodes(ctx)
	if err != nil {
		return 0, 0, err
	}
	ids := make([]string, len(infos))
	for i, ni := range infos {
		ids[i] = ni.ID
		conns += ni.Conns
	}
	users, err = a.presence.CountOnlineUsers(ctx, ids)
	return conns, users, err
}

// NodeStatus is one live node as its liveness key says.
type NodeStatus struct {
	ID          string `json:"id"`
	Connections int    `json:"connections"`
	Started     int64  `json:"started"`
}

// Nodes returns the live nodes of the cluster.
func (a *App) Nodes(ctx context.Context) ([]NodeStatus, error) {
	infos, err := a.cluster.LiveNodes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]NodeStatus, len(infos))
	for i, ni := range infos {
		out[i] = NodeStatus{ID: ni.ID, Connections: ni.Conns, Started: ni.Started}
	}
	slices.SortFunc(out, func(x, y NodeStatus) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// LocalGroups returns how many groups have members on this node.
func (a *App) LocalGroups() int { return len(a.hub.Groups()) }

// LocalUsers returns how many distinct users are connected to this node.
func (a *App) LocalUsers() int {
	n := 0
	a.hub.Users(func(string, int) { n++ })
	return n
}

// liveNodeIDs returns the ids of the live nodes, this one included.
func (a *App) liveNodeIDs(ctx context.Context) ([]string, error) {
	infos, err := a.cluster.LiveNodes(ctx)
	ids := make([]string, len(infos))
	for i, ni := range infos {
		ids[i] = ni.ID
	}
	return ids, err
}

// Addr addresses a connection cluster-wide: node id and connection id.
type Addr struct {
	Node string
	ID   ConnID
}

func (a Addr) String() string { return a.Node + ":" + strconv.FormatUint(uint64(a.ID), 10) }

// ParseAddr reads an Addr from its String form.
func ParseAddr(s string) (Addr, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return Addr{}, false
	}
	id, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return Addr{}, false
	}
	return Addr{Node: s[:i], ID: ConnID(id)}, true
}
