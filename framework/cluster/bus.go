package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"msgo/library/wire"
)

// Bus channels: one per node, one for every node.
func nodeChannel(node string) string { return "bus:" + node }

const broadcastChannel = "bus:all"

// Op is what an envelope asks of the node it reaches.
type Op byte

// Envelope kinds.
const (
	OpUser       Op = iota + 1 // target: user key, or "*:" + id for every type
	OpGroup                    // target: group name
	OpAll                      // target: a user id to leave out, or ""
	OpConn                     // target: connection id
	OpDisconnect               // target like OpUser; close code in count
	opReply                    // delivered count for request seq
	OpJoin                     // target like OpUser; the group in the frame field
	OpLeave                    // target like OpUser; the group in the frame field
	OpCount                    // target: group name; counts its connections
	opAsk                      // a question for whichever node holds target (see Ask)
	opAnswer                   // the answer to question seq, in frame
	opCut                      // a reload's cut-over marker; target: its nonce (see Cut)
)

// envelope is one bus message: a frame encoded once on the sending node and
// carried to each target node once, never once per connection.
type envelope struct {
	op     Op
	from   string
	seq    uint64 // non-zero: the sender waits for an opReply with the count
	target string
	count  uint64 // opReply: connections reached; OpDisconnect: close code
	frame  []byte
}

func (e *envelope) marshal() []byte {
	b := make([]byte, 0, 32+len(e.from)+len(e.target)+len(e.frame))
	b = append(b, byte(e.op))
	b = wire.AppendString(b, e.from)
	b = binary.AppendUvarint(b, e.seq)
	b = wire.AppendString(b, e.target)
	b = binary.AppendUvarint(b, e.count)
	return append(b, e.frame...)
}

var errEnvelope = errors.New("cluster: malformed bus envelope")

func (e *envelope) unmarshal(b []byte) error {
	if len(b) < 1 {
		return errEnvelope
	}
	e.op = Op(b[0])
	r := wire.NewReader(b[1:])
	e.from, e.seq, e.target, e.count = r.Str(), r.Uvarint(), r.Str(), r.Uvarint()
	if r.Err() != nil {
		return errEnvelope
	}
	e.frame = r.Rest()
	return nil
}

// Deliver writes frame to this node's targets of one envelope and returns
// how many connections it reached; code is OpDisconnect's close code.
type Deliver func(op Op, target string, frame []byte, code uint64) int

// Answer answers a question other nodes Ask about target on this node, or
// reports that target is not here (false: the node stays silent).
type Answer func(target string, question []byte) ([]byte, bool)

// Bus carries pushes between nodes over a Broker: each node subscribes to
// its own channel and to the broadcast channel.
type Bus struct {
	broker  Broker
	node    string
	deliver Deliver
	answer  Answer
	log     *slog.Logger
	onError func()
	seq     atomic.Uint64
	mu      sync.Mutex
	waiting map[uint64]chan uint64
	asking  map[uint64]chan []byte
	cut     cutover
	live    chan struct{} // closed once subscribed
}

// OnAsk sets the function that answers other nodes' questions; call it
// before Run.
func (b *Bus) OnAsk(fn Answer) { b.answer = fn }

// ErrNoAnswer means no node answered a question in time: nobody holds its
// target, or the node that did is gone.
var ErrNoAnswer = errors.New("cluster: no node answered")

// Ask asks every other node about target and returns the answer of the one
// that holds it, or ErrNoAnswer after timeout.
func (b *Bus) Ask(ctx context.Context, target string, question []byte, timeout time.Duration) ([]byte, error) {
	e := envelope{op: opAsk, from: b.node, seq: b.seq.Add(1), target: target, frame: question}
	ch, done := waitFor(&b.mu, b.asking, e.seq, 1)
	defer done()
	if err := b.broker.Publish(ctx, broadcastChannel, e.marshal()); err != nil {
		b.onError()
		return nil, fmt.Errorf("cluster: bus ask: %w", err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-ch:
		return a, nil
	case <-t.C:
		return nil, ErrNoAnswer
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ask serves another node's question; the answer goes back to it alone.
func (b *Bus) ask(ctx context.Context, e *envelope) {
	if b.answer == nil {
		return
	}
	out, ok := b.answer(e.target, e.frame)
	if !ok {
		return
	}
	r := envelope{op: opAnswer, from: b.node, seq: e.seq, frame: out}
	if err := b.broker.Publish(ctx, nodeChannel(e.from), r.marshal()); err != nil {
		b.onError()
	}
}

// NewBus returns node's bus; deliver serves what other nodes send, onError
// counts a failed publish or subscribe.
func NewBus(broker Broker, node string, deliver Deliver, log *slog.Logger, onError func()) *Bus {
	b := &Bus{broker: broker, node: node, deliver: deliver, log: log, onError: onError,
		waiting: make(map[uint64]chan uint64), asking: make(map[uint64]chan []byte),
		cut: cutover{change: make(chan struct{}, 1)}, live: make(chan struct{})}
	// Sequence numbers start at random: during a reload two processes share
	// the node's channels, and an answer to one must not wake the other's
	// waiter of the same number.
	b.seq.Store(rand.Uint64() >> 1)
	return b
}

// Run receives envelopes for this node until ctx ends. A store that is down
// at start (or drops the subscription) is retried with backoff; once
// subscribed, the subscription reconnects by itself. Live is closed at the
// first successful subscription.
func (b *Bus) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	once := sync.OnceFunc(func() { close(b.live) })
	for ctx.Err() == nil {
		sub, err := b.broker.Subscribe(ctx, b.channels()...)
		if err != nil {
			b.onError()
			b.log.Warn("bus subscribe failed; retrying", "err", err, "in", backoff)
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

func (b *Bus) consume(ctx context.Context, sub Subscription) {
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
				b.log.Warn("dropped bus message", "err", err)
				continue
			}
			b.take(ctx, m.Channel, &e)
		}
	}
}

func (b *Bus) receive(ctx context.Context, e *envelope) {
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
	if e.op == opAnswer {
		b.mu.Lock()
		ch := b.asking[e.seq]
		b.mu.Unlock()
		if ch != nil {
			select {
			case ch <- e.frame:
			default: // answered already
			}
		}
		return
	}
	if e.from == b.node {
		return // our own broadcast: local targets were served directly
	}
	if e.op == opAsk {
		// Answering may wait for a connection's worker: not on the loop that
		// delivers pushes.
		go b.ask(ctx, e)
		return
	}
	n := b.deliver(e.op, e.target, e.frame, e.count)
	if e.seq != 0 {
		r := envelope{op: opReply, from: b.node, seq: e.seq, count: uint64(n)}
		if err := b.broker.Publish(ctx, nodeChannel(e.from), r.marshal()); err != nil {
			b.onError()
		}
	}
}

// Send publishes a frame for op's target to nodes (to every node when op is
// OpAll), and with wait collects their delivered counts until each answered
// (a second at most) or ctx ends. code is OpDisconnect's close code.
func (b *Bus) Send(ctx context.Context, op Op, target string, code uint64, frame []byte, nodes []string, wait bool) (int, error) {
	e := envelope{op: op, target: target, count: code, frame: frame}
	all, expect := op == OpAll, len(nodes)
	var ch chan uint64
	if wait && expect > 0 {
		e.seq = b.seq.Add(1)
		var done func()
		ch, done = waitFor(&b.mu, b.waiting, e.seq, expect)
		defer done()
	}
	e.from = b.node
	payload := e.marshal()
	var errs []error
	if all {
		if err := b.broker.Publish(ctx, broadcastChannel, payload); err != nil {
			errs = append(errs, err)
		}
	} else {
		for _, n := range nodes {
			if err := b.broker.Publish(ctx, nodeChannel(n), payload); err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		b.onError()
		b.log.Warn("cross-node send failed", "err", err)
		return 0, fmt.Errorf("cluster: bus publish: %w", err)
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

// Sync returns once every push that other nodes published to this node
// before the call has been delivered here.
//
// A push is written to local connections at once and reaches other nodes'
// connections through the bus, so two nodes pushing to one group in turn can
// reach a third node's connections in turn, yet reach each other's own
// connections out of turn: node B's local write can overtake node A's earlier
// push still queued in B's subscription. A caller that needs one order for
// pushes made on several nodes takes turns through the store and calls Sync
// at the start of its turn, before its own local writes.
//
// Sync publishes a marker to this node's own channel and waits for it to come
// back: the broker delivers a channel's messages in publish order, and the
// bus handles them one at a time. It fails when the broker is unavailable or
// ctx ends first.
func (b *Bus) Sync(ctx context.Context) error {
	e := envelope{op: opReply, from: b.node, seq: b.seq.Add(1)}
	back, done := waitFor(&b.mu, b.waiting, e.seq, 1)
	defer done()
	if err := b.broker.Publish(ctx, nodeChannel(b.node), e.marshal()); err != nil {
		return fmt.Errorf("cluster: sync: %w", err)
	}
	select {
	case <-back:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: sync: %w", ctx.Err())
	}
}

// waitFor registers a channel of size n in m for the answers to seq, under
// mu; done unregisters it.
func waitFor[T any](mu *sync.Mutex, m map[uint64]chan T, seq uint64, n int) (ch chan T, done func()) {
	ch = make(chan T, n)
	mu.Lock()
	m[seq] = ch
	mu.Unlock()
	return ch, func() {
		mu.Lock()
		delete(m, seq)
		mu.Unlock()
	}
}
