package framework

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"msgo/library/cache"
)

// Bus channels: one per node, one for every node.
func nodeChannel(node string) string { return "bus:" + node }

const broadcastChannel = "bus:all"

// Envelope kinds.
const (
	opUser       byte = iota + 1 // target: user key, or "*:" + id for every type
	opGroup                      // target: group name
	opAll                        // target: a user id to leave out, or ""
	opConn                       // target: connection id
	opDisconnect                 // target like opUser; code in the frame field
	opReply                      // delivered count for request seq
	opJoin                       // target like opUser; the group in the frame field
	opLeave                      // target like opUser; the group in the frame field
	opCount                      // target: group name; counts its connections
)

// envelope is one bus message: a frame encoded once on the sending node and
// carried to each target node once, never once per connection.
type envelope struct {
	op     byte
	from   string
	seq    uint64 // non-zero: the sender waits for an opReply with the count
	target string
	count  uint64 // opReply: connections reached; opDisconnect: close code
	frame  []byte
}

func (e *envelope) marshal() []byte {
	b := make([]byte, 0, 32+len(e.from)+len(e.target)+len(e.frame))
	b = append(b, e.op)
	b = binary.AppendUvarint(b, uint64(len(e.from)))
	b = append(b, e.from...)
	b = binary.AppendUvarint(b, e.seq)
	b = binary.AppendUvarint(b, uint64(len(e.target)))
	b = append(b, e.target...)
	b = binary.AppendUvarint(b, e.count)
	return append(b, e.frame...)
}

var errEnvelope = errors.New("framework: malformed bus envelope")

func (e *envelope) unmarshal(b []byte) error {
	if len(b) < 1 {
		return errEnvelope
	}
	e.op, b = b[0], b[1:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	num := func() (uint64, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, false
		}
		b = b[k:]
		return n, true
	}
	var ok1, ok2, ok3, ok4 bool
	e.from, ok1 = str()
	if ok1 {
		e.seq, ok2 = num()
	}
	if ok2 {
		e.target, ok3 = str()
	}
	if ok3 {
		e.count, ok4 = num()
	}
	if !ok4 {
		return errEnvelope
	}
	e.frame = b
	return nil
}

// bus carries pushes between nodes over the store's publish/subscribe.
type bus struct {
	app     *App
	store   cache.Store
	node    string
	seq     atomic.Uint64
	mu      sync.Mutex
	waiting map[uint64]chan uint64
}

func newBus(app *App, store cache.Store, node string) *bus {
	return &bus{app: app, store: store, node: node, waiting: make(map[uint64]chan uint64)}
}

// run receives envelopes for this node until ctx ends. A store that is down
// at start (or drops the subscription) is retried with backoff; once
// subscribed, the subscription reconnects by itself. ready is closed at the
// first successful subscription.
func (b *bus) run(ctx context.Context, ready chan<- struct{}) {
	backoff := 100 * time.Millisecond
	once := sync.OnceFunc(func() { close(ready) })
	for ctx.Err() == nil {
		sub, err := b.store.Subscribe(ctx, nodeChannel(b.node), broadcastChannel)
		if err != nil {
			b.app.srv.metrics.busError()
			b.app.srv.log.Warn("bus subscribe failed; retrying", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		once()
		b.consume(ctx, sub)
		sub.Close()
	}
}

func (b *bus) consume(ctx context.Context, sub cache.Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-sub.Messages():
			if !ok {
				return
			}
			var e envelope
			if err := e.unmarshal(m.Payload); err != nil {
				b.app.srv.log.Warn("dropped bus message", "err", err)
				continue
			}
			b.receive(ctx, &e)
		}
	}
}

func (b *bus) receive(ctx context.Context, e *envelope) {
	if e.op == opReply {
		b.mu.Lock()
		ch := b.waiting[e.seq]
		b.mu.Unlock()
		if ch != nil {
			select {
			case ch <- e.count:
			default:
			}
		}
		return
	}
	if e.from == b.node {
		return // our own broadcast: local targets were served directly
	}
	n := b.app.deliverLocal(e.op, e.target, e.frame, e.count)
	if e.seq != 0 {
		r := envelope{op: opReply, from: b.node, seq: e.seq, count: uint64(n)}
		if err := b.store.Publish(ctx, nodeChannel(e.from), r.marshal()); err != nil {
			b.app.srv.metrics.busError()
		}
	}
}

// send publishes e to nodes (or to every node when all is set), and when wait
// is set, collects their delivered counts until each answered or ctx ends.
// expect is how many replies to wait for.
func (b *bus) send(ctx context.Context, e envelope, nodes []string, all bool, expect int, wait bool) (int, error) {
	var ch chan uint64
	if wait && expect > 0 {
		e.seq = b.seq.Add(1)
		ch = make(chan uint64, expect)
		b.mu.Lock()
		b.waiting[e.seq] = ch
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			delete(b.waiting, e.seq)
			b.mu.Unlock()
		}()
	}
	e.from = b.node
	payload := e.marshal()
	var errs []error
	if all {
		if err := b.store.Publish(ctx, broadcastChannel, payload); err != nil {
			errs = append(errs, err)
		}
	} else {
		for _, n := range nodes {
			if err := b.store.Publish(ctx, nodeChannel(n), payload); err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		b.app.srv.metrics.busError()
		b.app.srv.log.Warn("cross-node send failed", "err", err)
		return 0, fmt.Errorf("framework: bus publish: %w", err)
	}
	if ch == nil {
		return 0, nil
	}
	total := 0
	timeout := time.NewTimer(time.Second)
	defer timeout.Stop()
	for range expect {
		select {
		case n := <-ch:
			total += int(n)
		case <-timeout.C:
			return total, nil // a node that does not answer counts as none reached
		case <-ctx.Done():
			return total, ctx.Err()
		}
	}
	return total, nil
}
