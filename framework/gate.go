package framework

import (
	"context"
	"sync/atomic"
	"time"
)

// gate counts the work that owes a client an answer: handlers running and
// streams still open (a stream is a reply that follows its handler, such as
// kefu.chat.send's after its commit). A graceful stop shuts the gate, so no
// new message is handled, waits for the count to reach zero, and only then
// queues the close frames, behind every reply that work wrote. Without it a
// message stored while the server stops would go unacknowledged to a client
// that was still connected.
//
// enter and shut use sequentially consistent atomics in opposite order
// (enter: count, then look; shut: flag, then count), so a message either
// is seen by the wait or sees the gate shut; it is never lost between them.
type gate struct {
	shut atomic.Bool
	busy atomic.Int64
}

// enter reports whether new work may start; if so, leave must follow.
func (g *gate) enter() bool {
	g.busy.Add(1)
	if g.shut.Load() {
		g.busy.Add(-1)
		return false
	}
	return true
}

// hold counts work that starts inside work already entered (a stream opened
// by its handler), so it needs no check of its own.
func (g *gate) hold() { g.busy.Add(1) }

func (g *gate) leave() { g.busy.Add(-1) }

// gatePoll is how often close waits for the count: a stop is rare and the
// wait ends within one poll of the last reply.
const gatePoll = 5 * time.Millisecond

// close shuts the gate and waits until the work in flight is done or ctx
// ends; it reports whether everything finished.
func (g *gate) close(ctx context.Context) bool {
	g.shut.Store(true)
	t := time.NewTicker(gatePoll)
	defer t.Stop()
	for g.busy.Load() > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}
