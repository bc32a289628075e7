package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
)

// A reload hands this node's connections to a new process, which has the
// same node id and so the same bus channels. Both subscribe at once for a
// moment, and the bus message at which one stops applying and the other
// starts is made exact: the new process holds what it receives (Hold); the
// old one publishes a marker with a random nonce on each of its channels
// and goes on applying each channel's messages until its marker comes back
// on that channel (Cut), so what came before the marker is in the state it
// exports; the new one drops what it held up to and including the marker on
// each channel and applies the rest (Release). A broker delivers one
// channel's messages to every subscriber in the same order, so nothing is
// lost or applied twice.

// cutover is the bus's state during a reload.
type cutover struct {
	// mu is held while a message is taken, and while held messages are
	// applied, so they keep their order with what arrives meanwhile.
	mu      sync.Mutex
	holding bool            // hold every message (the process taking over)
	nonce   string          // the cut this process made (the old process)
	seen    map[string]bool // channels whose marker of nonce came back
	held    []heldMessage
	change  chan struct{} // signalled when a marker arrives
}

type heldMessage struct {
	channel string
	e       envelope
}

// channels are the channels this node's bus subscribes to.
func (b *Bus) channels() []string { return []string{nodeChannel(b.node), broadcastChannel} }

// Live is closed once the bus has subscribed: from then on, what is
// published to this node reaches it.
func (b *Bus) Live() <-chan struct{} { return b.live }

// take applies e, received on channel, or holds it during a cut-over.
func (b *Bus) take(ctx context.Context, channel string, e *envelope) {
	if e.op == opReply || e.op == opAnswer {
		b.receive(ctx, e) // answers to this process's own calls: never held
		return
	}
	c := &b.cut
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.op == opCut {
		if e.from == b.node && c.nonce != "" && e.target == c.nonce {
			c.seen[channel] = true
		}
		if c.holding {
			c.held = append(c.held, heldMessage{channel, *e})
		}
		select {
		case c.change <- struct{}{}:
		default:
		}
		return
	}
	if c.holding || c.seen[channel] {
		c.held = append(c.held, heldMessage{channel, *e})
		return
	}
	b.receive(ctx, e)
}

// Hold makes the bus keep what it receives, unapplied, until Release: the
// process taking over from a reload calls it before Run.
func (b *Bus) Hold() {
	b.cut.mu.Lock()
	b.cut.holding = true
	b.cut.mu.Unlock()
}

// Cut publishes a marker on each of this node's channels and returns its
// nonce once every marker came back: every message before a marker has been
// applied, and those after it are held. On an error (the broker failed, or
// ctx ended first) the cut is undone as by Resume.
func (b *Bus) Cut(ctx context.Context) (string, error) {
	var r [16]byte
	rand.Read(r[:]) // never fails (crypto/rand since Go 1.24)
	nonce := hex.EncodeToString(r[:])
	c := &b.cut
	c.mu.Lock()
	c.nonce, c.seen = nonce, make(map[string]bool)
	c.mu.Unlock()
	e := envelope{op: opCut, from: b.node, target: nonce}
	for _, ch := range b.channels() {
		if err := b.broker.Publish(ctx, ch, e.marshal()); err != nil {
			b.Resume(ctx)
			return "", fmt.Errorf("cluster: bus cut-over on %s: %w", ch, err)
		}
	}
	for {
		c.mu.Lock()
		done := len(c.seen) == len(b.channels())
		c.mu.Unlock()
		if done {
			return nonce, nil
		}
		select {
		case <-c.change:
		case <-ctx.Done():
			b.Resume(ctx)
			return "", fmt.Errorf("cluster: bus cut-over: the markers did not come back: %w", ctx.Err())
		}
	}
}

// Resume undoes Cut, for a reload that failed: the messages held since the
// markers are applied in the order received, and the bus goes on.
func (b *Bus) Resume(ctx context.Context) {
	c := &b.cut
	c.mu.Lock()
	defer c.mu.Unlock()
	held := c.held
	c.nonce, c.seen, c.held = "", nil, nil
	for i := range held {
		b.receive(ctx, &held[i].e)
	}
}

// Await returns once the marker of the cut nonce has arrived on every
// channel while holding, or fails when ctx ends first.
func (b *Bus) Await(ctx context.Context, nonce string) error {
	c := &b.cut
	for {
		c.mu.Lock()
		n := len(c.markers(nonce))
		c.mu.Unlock()
		if n == len(b.channels()) {
			return nil
		}
		select {
		case <-c.change:
		case <-ctx.Done():
			return fmt.Errorf("cluster: bus cut-over: %d of %d markers arrived: %w", n, len(b.channels()), ctx.Err())
		}
	}
}

// markers returns the channels on which a held marker of nonce is; the
// caller holds c.mu.
func (c *cutover) markers(nonce string) map[string]int {
	at := make(map[string]int)
	for i, m := range c.held {
		if m.e.op == opCut && m.e.target == nonce {
			at[m.channel] = i
		}
	}
	return at
}

// Release ends Hold: on each channel, what was held up to and including the
// marker of the cut nonce is dropped (the process before this one applied
// it), the rest is applied in the order received. With nonce "" (no cut:
// the broker is this process's own) everything held is applied.
func (b *Bus) Release(ctx context.Context, nonce string) {
	c := &b.cut
	c.mu.Lock()
	defer c.mu.Unlock()
	at := c.markers(nonce)
	held := c.held
	c.holding, c.held = false, nil
	for i := range held {
		m := &held[i]
		if cut, ok := at[m.channel]; (ok && i <= cut) || m.e.op == opCut {
			continue
		}
		b.receive(ctx, &m.e)
	}
}
