package cluster

import (
	"context"
	"time"
)

// What the cluster records about where things are lives behind three small
// interfaces, each written by the node that owns the entries and read by
// every node. Entries a node owns name it, so a live node can purge what a
// dead one left. Store (presence_store.go) implements all three.

// Presence records which users are connected on which nodes, and which nodes
// are alive.
type Presence interface {
	// UserOnline records that user has its first connection on this node.
	UserOnline(ctx context.Context, user string) error
	// UserOffline records that user's last connection on this node closed.
	UserOffline(ctx context.Context, user string) error
	// UserNodes returns the nodes where any of users is connected.
	UserNodes(ctx context.Context, users ...string) ([]string, error)
	// OnlineUsers returns the distinct users connected on nodes.
	OnlineUsers(ctx context.Context, nodes []string) ([]string, error)
	// CountOnlineUsers returns how many distinct users are connected on nodes.
	CountOnlineUsers(ctx context.Context, nodes []string) (int, error)

	// Heartbeat publishes this node's liveness for a few heartbeats and
	// reports whether the node had to be added back to the node list (the
	// store lost it, or it is new).
	Heartbeat(ctx context.Context, info NodeInfo) (rejoined bool, err error)
	// LiveNodes returns the nodes whose liveness has not expired, this one
	// included.
	LiveNodes(ctx context.Context) ([]NodeInfo, error)
	// Reassert writes every entry this node owns from its local state.
	Reassert(ctx context.Context, l Local) error
	// PurgeDead removes every entry of nodes whose liveness expired and
	// calls done for each such node with the result.
	PurgeDead(ctx context.Context, done func(node string, err error))
	// Leave removes every entry of this node now.
	Leave(ctx context.Context) error
}

// Groups records which nodes have members of a group and which users.
type Groups interface {
	// GroupJoined records that this node has members in g, users among them.
	GroupJoined(ctx context.Context, g string, users []string) error
	// GroupLeft records that user's last member in g on this node left
	// (user is "" when the user still has one), and with last that the
	// node's last member of g left.
	GroupLeft(ctx context.Context, g, user string, last bool) error
	// GroupNodes returns the nodes with members in g.
	GroupNodes(ctx context.Context, g string) ([]string, error)
	// CountGroupUsers returns how many distinct users g has on every node.
	CountGroupUsers(ctx context.Context, g string) (int, error)
	// GroupUsers returns up to limit (all when <= 0) distinct users of g, in
	// order, with the nicknames SetNickname recorded.
	GroupUsers(ctx context.Context, g string, limit int) ([]User, error)
	// SetNickname records user's display name for GroupUsers.
	SetNickname(ctx context.Context, user, nickname string) error
	// UserGroups returns the groups in which node has members of any of
	// users (user keys), each once.
	UserGroups(ctx context.Context, node string, users []string) ([]string, error)
}

// CloseKeys are sets of connections ("node:id" members) that a connection
// leaves when it closes, however it closes.
type CloseKeys interface {
	AddCloseKey(ctx context.Context, key, member string) error
	RemoveCloseKey(ctx context.Context, key, member string) error
	CloseKeyMembers(ctx context.Context, key string) ([]string, error)
}

// Routes records where a connection that moved to another node is now.
// A connection keeps the address ("node:id") of the node that accepted it
// for its whole life, so whatever was stored under that address stays true;
// its route names the node holding it since it moved. Connection ids are
// unique in the cluster (each node gives ids from its own space), so a
// moved connection keeps its id on the node it moves to.
type Routes interface {
	// IDSpace returns a number no other node got: the high bits of this
	// node's connection ids.
	IDSpace(ctx context.Context) (uint64, error)
	// SetRoute records that node holds the connection at addr.
	SetRoute(ctx context.Context, addr, node string) error
	// DropRoute records that node no longer holds addr; with ended the
	// connection ended there and its route goes.
	DropRoute(ctx context.Context, addr, node string, ended bool) error
	// Route returns the node holding addr, if it moved.
	Route(ctx context.Context, addr string) (string, bool, error)
}

// NodeInfo is what a node publishes with its liveness.
type NodeInfo struct {
	ID      string `json:"-"`
	Conns   int    `json:"conns"`
	Started int64  `json:"started"`
}

// User is a user key with its nickname.
type User struct {
	Key      string
	Nickname string
}

// Local is what this node holds, for Reassert.
type Local struct {
	Users     []string
	Groups    []GroupUsers
	CloseKeys []KeyMember
	Routes    []string // addresses of connections that moved here
}

// KeyMember is one close-key entry of this node.
type KeyMember struct{ Key, Member string }

// Liveness: a node refreshes its key every heartbeat; a node whose key has
// expired is dead, and any live node purges what it left in the store.
const (
	HeartbeatEvery = 2 * time.Second
	aliveTTL       = 6 * time.Second
	nickTTL        = 24 * time.Hour
)
