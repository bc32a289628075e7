package proxy

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Event is one connection's disconnect event, and before it ends, the
// record that it is open (Code, Reason and Time still zero).
type Event struct {
	ID       string          `json:"event_id"`
	Node     string          `json:"node"`
	Client   json.RawMessage `json:"client"`
	Opened   int64           `json:"opened"` // unix ms
	Code     int             `json:"code,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Time     int64           `json:"time,omitempty"` // unix ms it ended
	Attempts int             `json:"attempts,omitempty"`
}

// Lost close code and reason of a connection whose node died.
const (
	LostCode   = 1006
	LostReason = "node lost"
)

// Events is where disconnect events wait for the backend, durably: with the
// Redis store in a cluster (events_redis.go), in a database table otherwise
// (events_sql.go). Every method is safe for concurrent use, from any node.
type Events interface {
	// Opened records a connection that will need an event when it ends.
	Opened(ctx context.Context, e Event) error
	// Ended stores the events of ended connections and forgets their open
	// records, in one step, due at once.
	Ended(ctx context.Context, es []Event) error
	// Lost turns every open record of node into an event (LostCode,
	// LostReason, ended at) and reports how many. Each record goes to one
	// caller however many nodes report node at once.
	Lost(ctx context.Context, node string, at int64) (int, error)
	// Restarted is Lost for what an earlier run under this node id left;
	// it is called once, at start, before the node records anything.
	Restarted(ctx context.Context, node string, at int64) (int, error)
	// Beat says node is alive at at, and reports as lost (as Lost does) the
	// open records of nodes that stopped beating, where the store itself
	// knows which nodes live; it returns how many it reported. The Redis
	// store leaves that to the cluster, which purges dead nodes.
	Beat(ctx context.Context, node string, at int64) (int, error)
	// Lease returns up to n events due at now and hides them from other
	// leases until until (unix ms).
	Lease(ctx context.Context, now, until int64, n int) ([]Event, error)
	// Delivered forgets events.
	Delivered(ctx context.Context, ids ...string) error
	// Retry stores e (its Attempts counted) to be due again at next.
	Retry(ctx context.Context, e Event, next int64) error
	// Stats returns how many events wait and when the oldest ended (0 for none).
	Stats(ctx context.Context) (pending int, oldest int64, err error)
}

// deliverBatch bounds the events leased at once; deliverParallel the
// attempts in flight from one node.
const (
	deliverBatch    = 256
	deliverParallel = 64
)

// deliverer stores ended connections' events and sends them to
// {endpoint}/disconnect until the backend takes each.
type deliverer struct {
	p     *Proxy
	mu    sync.Mutex
	ended []Event
	kick  chan struct{}
}

func newDeliverer(p *Proxy) *deliverer {
	return &deliverer{p: p, kick: make(chan struct{}, 1)}
}

// add queues an ended connection's event to be stored; it never blocks.
func (d *deliverer) add(e Event) {
	d.mu.Lock()
	d.ended = append(d.ended, e)
	d.mu.Unlock()
	d.wake()
}

func (d *deliverer) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// flush stores what add queued, waiting up to the call timeout.
func (d *deliverer) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), d.p.cfg.Timeout)
	defer cancel()
	d.store(ctx)
}

// store writes the queued events; a failure keeps them queued (their open
// records stay too, so even a crash now reports them, as lost).
func (d *deliverer) store(ctx context.Context) {
	d.mu.Lock()
	es := d.ended
	d.ended = nil
	d.mu.Unlock()
	if len(es) == 0 {
		return
	}
	if err := d.p.events.Ended(ctx, es); err != nil {
		d.p.log.Warn("proxy: could not store disconnect events; will retry", "count", len(es), "err", err)
		d.mu.Lock()
		d.ended = append(es, d.ended...)
		d.mu.Unlock()
		return
	}
	d.p.metrics.stored.Add(float64(len(es)))
}

// run stores and delivers until ctx ends: whenever an event is added, and
// at least every RetryMin for the ones that wait.
func (d *deliverer) run(ctx context.Context) {
	tick := time.NewTicker(min(d.p.cfg.RetryMin, time.Second))
	defer tick.Stop()
	stats := time.Now()
	for {
		d.store(ctx)
		for d.round(ctx) == deliverBatch {
			d.store(ctx)
		}
		if time.Since(stats) >= time.Second {
			d.stats(ctx)
			d.beat(ctx)
			stats = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-tick.C:
		}
	}
}

// beat keeps this node alive in the store and reports nodes that died.
func (d *deliverer) beat(ctx context.Context) {
	n, err := d.p.events.Beat(ctx, d.p.node, time.Now().UnixMilli())
	if err != nil {
		d.p.log.Warn("proxy: could not record this node alive in the events store", "err", err)
	} else if n > 0 {
		d.p.log.Info("proxy: reporting the connections of a node that stopped", "count", n)
	}
}

func (d *deliverer) stats(ctx context.Context) {
	n, oldest, err := d.p.events.Stats(ctx)
	if err != nil {
		return
	}
	d.p.metrics.pending.Set(float64(n))
	age := 0.0
	if oldest > 0 {
		age = float64(time.Now().UnixMilli()-oldest) / 1000
	}
	d.p.metrics.oldest.Set(age)
}

// round leases the due events and attempts each once, deliverParallel at a
// time; it returns how many it leased.
func (d *deliverer) round(ctx context.Context) int {
	cfg := d.p.cfg
	now := time.Now().UnixMilli()
	es, err := d.p.events.Lease(ctx, now, now+(2*cfg.Timeout+time.Second).Milliseconds(), deliverBatch)
	if err != nil {
		d.p.log.Warn("proxy: could not read stored disconnect events", "err", err)
		return 0
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done []string
	slots := make(chan struct{}, deliverParallel)
	for _, e := range es {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if d.attempt(ctx, e) {
				mu.Lock()
				done = append(done, e.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(done) > 0 {
		if err := d.p.events.Delivered(ctx, done...); err != nil {
			d.p.log.Warn("proxy: delivered disconnect events but could not forget them; they may be sent again", "count", len(done), "err", err)
		}
	}
	return len(es)
}

// disconnectBody is what /disconnect receives.
type disconnectBody struct {
	Client     json.RawMessage `json:"client"`
	EventID    string          `json:"event_id"`
	Code       int             `json:"code"`
	Reason     string          `json:"reason"`
	Time       int64           `json:"time"`
	DurationMS int64           `json:"duration_ms"`
}

// attempt sends e once and reports whether it is done with: taken, or
// dropped past the retention.
func (d *deliverer) attempt(ctx context.Context, e Event) bool {
	p := d.p
	body := disconnectBody{Client: e.Client, EventID: e.ID, Code: e.Code, Reason: e.Reason, Time: e.Time, DurationMS: max(e.Time-e.Opened, 0)}
	var a answer
	status, err := p.call("disconnect", body, &a, time.Now().Add(p.cfg.Timeout))
	if err == nil && status == http.StatusOK {
		p.metrics.attempts.WithLabelValues("delivered").Inc()
		return true
	}
	e.Attempts++
	if time.Since(time.UnixMilli(e.Time)) > p.cfg.Retention {
		p.metrics.attempts.WithLabelValues("expired").Inc()
		p.log.Error("proxy: disconnect event dropped after the retention period", "event_id", e.ID, "attempts", e.Attempts)
		return true
	}
	p.metrics.attempts.WithLabelValues("failed").Inc()
	next := time.Now().Add(backoff(e.Attempts, p.cfg.RetryMin, p.cfg.RetryMax)).UnixMilli()
	if err := p.events.Retry(ctx, e, next); err != nil {
		p.log.Warn("proxy: could not reschedule a disconnect event; its lease expiry retries it", "event_id", e.ID, "err", err)
	}
	return false
}

// backoff is the wait before attempt n+1: lo doubled per attempt, capped at
// hi, with full jitter over its upper half so retries of many events spread.
func backoff(attempts int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < attempts && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}
