package transport

import (
	"context"
	"sync"
)

// fanoutInline is the most targets a push writes itself; a push to more
// queues the frame on each and leaves the writes to the flushers.
const fanoutInline = 8

// flushers write the output that pushes to many connections queue. Queuing
// first and writing after means a room push costs its caller only the
// queuing, the writes (one syscall per member, most of a push's cost) run on
// one lane per core, and a member that gets more pushes before its lane
// reaches it takes them all in one writev: under load, batches grow instead
// of latency.
type flushers struct {
	lanes []flushLane
}

// flushLane is one flusher goroutine's list of connections to write.
type flushLane struct {
	mu      sync.Mutex
	pending []*conn
	wake    chan struct{}
}

func newFlushers(n int) *flushers {
	f := &flushers{lanes: make([]flushLane, max(n, 1))}
	for i := range f.lanes {
		f.lanes[i].wake = make(chan struct{}, 1)
	}
	return f
}

// run is lane i's loop, until ctx ends. A connection released meanwhile is
// skipped by flush itself.
func (f *flushers) run(ctx context.Context, i int) {
	l := &f.lanes[i]
	var batch []*conn
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
func (f *flushers) add(cs []*conn) {
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
