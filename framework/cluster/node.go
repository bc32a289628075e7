package cluster

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// StoreOp bounds one background operation on the cluster's store.
const StoreOp = 2 * time.Second

// Node keeps this node's part of the cluster true: it beats its liveness,
// re-asserts its entries from local state whenever the store lost them or a
// write failed, and purges dead nodes.
type Node struct {
	presence Presence
	id       string
	started  time.Time
	local    func() Local
	conns    func() int
	log      *slog.Logger
	onError  func()
	onPurge  func(node string)
	dirty    atomic.Bool // a write failed: rebuild this node's entries at the next beat
}

// NodeOptions wires a Node.
type NodeOptions struct {
	ID       string
	Presence Presence
	Started  time.Time
	Local    func() Local // what this node holds, for a rebuild
	Conns    func() int   // connections on this node now
	Logger   *slog.Logger
	OnError  func()            // counts a failed store operation
	OnPurge  func(node string) // when set, told of each dead node purged
}

// NewNode returns a Node; Run starts its beat.
func NewNode(o NodeOptions) *Node {
	return &Node{presence: o.Presence, id: o.ID, started: o.Started, local: o.Local, conns: o.Conns, log: o.Logger, onError: o.OnError, onPurge: o.OnPurge}
}

// ID returns the node's id.
func (n *Node) ID() string { return n.id }

// Failed records a store error from a background write: the node's entries
// are rebuilt at the next beat. A nil err is no failure.
func (n *Node) Failed(op string, err error) {
	if err == nil {
		return
	}
	n.dirty.Store(true)
	n.onError()
	n.log.Warn("store write failed; will re-assert", "op", op, "err", err)
}

// Run beats until ctx ends.
func (n *Node) Run(ctx context.Context) {
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	first := true
	for {
		n.beat(ctx, first)
		first = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// beat refreshes liveness, rebuilds this node's entries if the store lost
// them (a Redis restarted empty) or a write failed, and purges dead nodes.
func (n *Node) beat(parent context.Context, first bool) {
	ctx, cancel := context.WithTimeout(parent, StoreOp)
	defer cancel()
	rejoined, err := n.presence.Heartbeat(ctx, NodeInfo{Conns: n.conns(), Started: n.started.Unix()})
	if err != nil {
		n.Failed("heartbeat", err)
		return
	}
	if (rejoined && !first) || n.dirty.Load() {
		n.dirty.Store(false)
		// Reassert bounds each of its store calls itself: its work grows
		// with the node, so one StoreOp for all of it would not do.
		if err := n.presence.Reassert(parent, n.local()); err != nil {
			n.Failed("reassert", err)
			return
		}
		n.log.Info("re-asserted this node's presence, groups and close keys in the store")
	}
	n.presence.PurgeDead(ctx, func(dead string, err error) {
		if err != nil {
			n.Failed("purge "+dead, err)
			return
		}
		n.log.Info("purged dead node", "node", dead)
		if n.onPurge != nil {
			n.onPurge(dead)
		}
	})
}

// LiveNodes returns the live nodes, this one with its connections now.
func (n *Node) LiveNodes(ctx context.Context) ([]NodeInfo, error) {
	nodes, err := n.presence.LiveNodes(ctx)
	for i := range nodes {
		if nodes[i].ID == n.id {
			nodes[i].Conns = n.conns()
		}
	}
	return nodes, err
}

// Leave removes this node's entries now rather than leaving them for others
// to purge later.
func (n *Node) Leave() {
	ctx, cancel := context.WithTimeout(context.Background(), StoreOp)
	defer cancel()
	n.presence.Leave(ctx)
}
