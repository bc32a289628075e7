package bench

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// pacer sends total stamped calls at rate per second, each numbered (seq from
// 1) and stamped with the time just before it is sent, through a few
// concurrent workers so that one slow call does not hold back the schedule.
// When every worker is busy the schedule slips, and the achieved rate shows it.
type pacer struct {
	rate    float64
	total   int64
	workers int
	// send makes call seq with the body built into buf (reused per worker)
	// and returns how many connections the server says it reached.
	send func(ctx context.Context, seq int64, buf []byte) ([]byte, int, error)

	sent      atomic.Int64
	failed    atomic.Int64
	delivered atomic.Int64 // sum of the server's delivered counts
	errs      errorTally
	late      time.Duration // how late the last call was handed to a worker; set by run

	mu         sync.Mutex
	failedSeqs map[int64]bool
}

// failedSeq reports whether call seq failed.
func (p *pacer) failedSeq(seq int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failedSeqs[seq]
}

// failedList returns the calls that failed.
func (p *pacer) failedList() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int64, 0, len(p.failedSeqs))
	for seq := range p.failedSeqs {
		out = append(out, seq)
	}
	return out
}

// run sends until total calls are made or ctx ends, and returns when the
// first call was due and when the last one returned.
func (p *pacer) run(ctx context.Context) (first, last time.Time) {
	jobs := make(chan int64)
	var wg sync.WaitGroup
	for range max(1, p.workers) {
		wg.Go(func() {
			var buf []byte
			for seq := range jobs {
				var n int
				var err error
				buf, n, err = p.send(ctx, seq, buf)
				if err != nil {
					if ctx.Err() == nil {
						p.errs.add(err)
					}
					p.failed.Add(1)
					p.mu.Lock()
					if p.failedSeqs == nil {
						p.failedSeqs = make(map[int64]bool)
					}
					p.failedSeqs[seq] = true
					p.mu.Unlock()
					continue
				}
				p.sent.Add(1)
				p.delivered.Add(int64(n))
			}
		})
	}
	first = time.Now()
	interval := time.Duration(float64(time.Second) / p.rate)
	t := time.NewTimer(0)
	defer t.Stop()
loop:
	for seq := int64(1); seq <= p.total; seq++ {
		due := first.Add(time.Duration(seq-1) * interval)
		if d := time.Until(due); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				break loop
			}
		}
		select {
		case jobs <- seq:
			p.late = time.Since(due)
		case <-ctx.Done():
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	return first, time.Now()
}

// stamps checks stamped pushes as the clients receive them: latency from the
// stamp, duplicates and strays by seq, per connection. Every connection is
// expected to receive each seq at most once.
type stamps struct {
	event  []byte // `"event":"<name>"` of the stamped pushes
	maxSeq int64

	hist     histogram
	received atomic.Int64 // stamped pushes received, duplicates included
	dups     atomic.Int64
	stray    atomic.Int64 // seq out of range or no stamp
	other    atomic.Int64 // frames of other events (room joins, replies)
	last     atomic.Int64 // unix nanos of the latest receipt

	seen   [][]uint64     // per connection, a bit per seq; written only by that connection's reader
	counts []atomic.Int32 // by seq: the connections that received it
}

func newStamps(event string, maxSeq int64, conns int) *stamps {
	return &stamps{event: []byte(`"event":"` + event + `"`), maxSeq: maxSeq, seen: make([][]uint64, conns), counts: make([]atomic.Int32, maxSeq+1)}
}

// handle is the connections' handler.
func (s *stamps) handle(c *conn, msg []byte) {
	if !bytes.Contains(msg, s.event) {
		s.other.Add(1)
		return
	}
	now := time.Now()
	seq, ok1 := intAfter(msg, `"seq":`)
	ts, ok2 := intAfter(msg, `"ts":`)
	if !ok1 || !ok2 || seq < 1 || seq > s.maxSeq {
		s.stray.Add(1)
		return
	}
	s.received.Add(1)
	s.last.Store(now.UnixNano())
	bm := s.seen[c.idx]
	if bm == nil {
		bm = make([]uint64, (s.maxSeq+64)/64)
		s.seen[c.idx] = bm
	}
	w, bit := seq/64, uint64(1)<<(seq%64)
	if bm[w]&bit != 0 {
		s.dups.Add(1)
		return
	}
	bm[w] |= bit
	s.counts[seq].Add(1)
	s.hist.record(now.Sub(time.Unix(0, ts)))
}

// unique returns the stamped pushes received once.
func (s *stamps) unique() int64 { return s.received.Load() - s.dups.Load() }

// uniqueOf returns the stamped pushes of seqs received once.
func (s *stamps) uniqueOf(seqs []int64) int64 {
	var n int64
	for _, seq := range seqs {
		n += int64(s.counts[seq].Load())
	}
	return n
}

// settle waits until done reports true (when done is not nil), or counter
// has not moved for quiet, or limit passed, or ctx ended. It reports whether
// it ended for done or quiet.
func settle(ctx context.Context, counter func() int64, done func() bool, quiet, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	last, since := counter(), time.Now()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if done != nil && done() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case now := <-t.C:
			if v := counter(); v != last {
				last, since = v, now
			} else if now.Sub(since) >= quiet {
				return true
			}
			if now.After(deadline) {
				return false
			}
		}
	}
}

// settleJoins waits, with a progress line, until the pushes that joins
// cause (counted by other) have been quiet for half a second, or limit.
func settleJoins(ctx context.Context, e *env, name string, other func() int64, limit time.Duration) {
	stop := startProgress(ctx, e.stderr, name, e.procs, func() string {
		return fmt.Sprintf("waiting for the join pushes to end: %d received", other())
	})
	settle(ctx, other, nil, 500*time.Millisecond, limit)
	stop()
}
