package framework

import (
	"context"
	"fmt"
)

// Sync returns once every push that other nodes published to this node
// before the call has been delivered to this node's connections.
//
// A push is written to local connections at once and reaches other nodes'
// connections through the bus, so two nodes pushing to one group in turn can
// reach a third node's connections in turn, yet reach each other's own
// connections out of turn: node B's local write can overtake node A's earlier
// push still queued in B's subscription. A module that needs one order for
// pushes made on several nodes (live.message in seq order) takes turns
// through the store and calls Sync at the start of its turn, before its own
// local writes.
//
// Sync publishes a marker to this node's own bus channel and waits for it to
// come back: the store delivers a channel's messages in publish order, and
// the bus handles them one at a time. It fails when the store is unavailable
// or ctx ends first.
func (a *App) Sync(ctx context.Context) error {
	b := a.bus
	e := envelope{op: opReply, from: b.node, seq: b.seq.Add(1)}
	back := make(chan uint64, 1)
	b.mu.Lock()
	b.waiting[e.seq] = back
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiting, e.seq)
		b.mu.Unlock()
	}()
	if err := b.store.Publish(ctx, nodeChannel(b.node), e.marshal()); err != nil {
		return fmt.Errorf("framework: sync: %w", err)
	}
	select {
	case <-back:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("framework: sync: %w", ctx.Err())
	}
}
