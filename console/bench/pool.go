package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// handler receives each data message of a connection on its reader
// goroutine. msg is borrowed: it is only valid until handler returns.
type handler func(c *conn, msg []byte)

// pool holds the connections of one run and their reader goroutines.
type pool struct {
	mu    sync.Mutex
	conns []*conn // by index; nil where the connection failed

	readers  sync.WaitGroup
	stopHB   context.CancelFunc
	stopping atomic.Bool
	dropped  atomic.Int64 // ended by the server or the network while held

	opened atomic.Int64
	failed atomic.Int64
	errs   errorTally
}

// newPool returns an empty pool for n connections whose heartbeat pings
// every open connection each interval until close.
func newPool(n int, every time.Duration) *pool {
	p := &pool{conns: make([]*conn, n)}
	ctx, cancel := context.WithCancel(context.Background())
	p.stopHB = cancel
	go p.heartbeat(ctx, every)
	return p
}

// openSpec says how to open a pool's connections.
type openSpec struct {
	n           int
	concurrency int
	endpoint    func(i int) endpoint
	token       func(i int) string
	join        bool
	joinTimeout time.Duration
	handler     handler
}

// open dials spec.n connections with spec.concurrency dialers, joins each to
// its room when asked, then starts its reader. It returns when every
// connection has been tried, ctx ends, or most attempts fail (the server is
// down or refusing, and going on would only wait out timeouts).
func (p *pool) open(ctx context.Context, d *dialer, spec openSpec) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(spec.concurrency, spec.n)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= spec.n || ctx.Err() != nil {
					return
				}
				c, err := d.dial(ctx, spec.endpoint(i), i, spec.token(i))
				if err == nil && spec.join {
					if err = c.join(spec.joinTimeout); err != nil {
						c.close()
					}
				}
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					p.errs.add(err)
					if f := p.failed.Add(1); f >= 20 && f > p.opened.Load() {
						cancel()
					}
					continue
				}
				p.mu.Lock()
				p.conns[i] = c
				p.mu.Unlock()
				p.opened.Add(1)
				p.readers.Add(1)
				go p.read(c, spec.handler)
			}
		})
	}
	wg.Wait()
}

// read runs a connection's reader until the connection ends.
func (p *pool) read(c *conn, h handler) {
	defer p.readers.Done()
	for {
		msg, err := c.next()
		if err != nil {
			if !p.stopping.Load() {
				p.dropped.Add(1)
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					p.errs.add(fmt.Errorf("while held: %w", err))
				}
			}
			return
		}
		if h != nil {
			h(c, msg)
		}
	}
}

// each calls fn for every open connection, outside the pool's lock.
func (p *pool) each(fn func(*conn)) {
	p.mu.Lock()
	cs := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		if c != nil {
			cs = append(cs, c)
		}
	}
	p.mu.Unlock()
	for _, c := range cs {
		fn(c)
	}
}

// heartbeat pings every connection each interval until ctx ends, so the
// server's idle timeout (60 s by default) closes no held connection, even
// while a large pool is still opening.
func (p *pool) heartbeat(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.each(func(c *conn) { c.writeRaw(compiledPing) })
		}
	}
}

// close drops every connection and waits (boundedly) for the readers.
func (p *pool) close() {
	p.stopHB()
	p.stopping.Store(true)
	p.each((*conn).close)
	done := make(chan struct{})
	go func() { p.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// errorTally counts errors by message, to report the commonest few.
type errorTally struct {
	mu     sync.Mutex
	counts map[string]int
}

func (t *errorTally) add(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = make(map[string]int)
	}
	if len(t.counts) < 100 { // bounded: a flood of distinct messages keeps the first 100
		t.counts[err.Error()]++
	} else if _, ok := t.counts[err.Error()]; ok {
		t.counts[err.Error()]++
	}
}

// top returns up to n messages, commonest first, as "message (xcount)".
func (t *errorTally) top(n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	type kv struct {
		msg string
		n   int
	}
	var all []kv
	for m, c := range t.counts {
		all = append(all, kv{m, c})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].msg < all[j].msg
	})
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, fmt.Sprintf("%s (x%d)", all[i].msg, all[i].n))
	}
	return out
}
