//go:build linux

package transport

import (
	"context"
	"sync"
)

// fanoutInline is the most targets a push writes itself; a push to more
// queues the frame on each and leaves the writes to the flushers.
const fanoutInline = 8

// Fanout writes frame to every connection of cs and returns how many took
// it. A few are written at once; to more, the frame is queued on each and
// the ones that need a write are handed to the flushers, so the caller pays
// only the queuing. cs is reused as scratch space.
func (s *Server[S]) Fanout(cs []*Conn[S], frame []byte) int {
	n := 0
	if len(cs) <= fanoutInline {
		for _, c := range cs {
			if c.Send(frame) == nil {
				n++
			}
		}
		return n
	}
	idle := cs[:0]
	for _, c := range cs {
		needFlush, err := c.Queue(frame)
		if err != nil {
			continue
		}
		n++
		if needFlush {
			idle = append(idle, c)
		}
	}
	s.metrics.framesOutN(n, len(frame))
	s.flush.add(idle)
	return n
}

// flushers write the output that pushes to many connections queue. Queuing
// first and writing after means a room push costs its caller only the
// queuing, the writes (one syscall per member, most of a push's cost) run on
// one lane per core, and a member that gets more pushes before its lane
// reaches it takes them all in one writev: under load, batches grow instead
// of latency.
type flushers[S any] struct {
	lanes []flushLane[S]
}

// flushLane is one flusher goroutine's list of connections to write.
type flushLane[S any] struct {
	mu      sync.Mutex
	pending []*Conn[S]
	wake    chan struct{}
}

func newFlushers[S any](n int) *flushers[S] {
	f := &flushers[S]{lanes: make([]flushLane[S], max(n, 1))}
	for i := range f.lanes {
		f.lanes[i].wake = make(chan struct{}, 1)
	}
	return f
}

// run is lane i's loop, until ctx ends. A connection released meanwhile is
// skipped by flush itself.
func (f *flushers[S]) run(ctx context.Context, i int) {
	l := &f.lanes[i]
	var batch []*Conn[S]
	for {
		select {
		case <-l.wake:
		case <-ctx.Done():
			return
		}
		l.mu.Lock()
		batch, l.pending = l.pending, batch[:0]
		l.mu.Unlock()
		for j, c := range batch {
			c.flush()
			batch[j] = nil
		}
	}
}

// add hands cs to the lanes in contiguous shares, one lock per lane.
func (f *flushers[S]) add(cs []*Conn[S]) {
	n := len(f.lanes)
	for i := range f.lanes {
		share := cs[i*len(cs)/n : (i+1)*len(cs)/n]
		if len(share) == 0 {
			continue
		}
		l := &f.lanes[i]
		l.mu.Lock()
		l.pending = append(l.pending, share...)
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}
