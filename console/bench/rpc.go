package bench

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/spf13/cobra"
)

func rpcCommand() *cobra.Command {
	o := &options{conns: 200, concurrency: 64, duration: 10 * time.Second, method: "index.index.index"}
	cmd := subcommand("rpc", "Closed-loop request/response on C connections",
		`Each of --conns connections sends --method with an id, waits for the
reply, and sends the next, for --duration. Reports req/s, latency percentiles
and, with --pid, server CPU µs per request. The server's per-connection rate
limit (MSGO_OUTSIDE_RATE_LIMIT, default 100/s) must be above the per-connection
rate the run reaches, or replies turn into 429s; they are counted as errors.`,
		o, flagDuration, runRPC)
	cmd.Flags().StringVar(&o.method, "method", o.method, "method to call; its reply event is the method lower-cased")
	return cmd
}

// rpcLoop is the closed loop: each connection's reader sends its next
// request as soon as the reply to the last one arrives.
type rpcLoop struct {
	prefix []byte // `{"method":"...","id":`
	event  []byte // `"event":"<method>"`
	sentAt []atomic.Int64
	ids    []atomic.Int64

	measuring atomic.Bool
	stopped   atomic.Bool
	replies   atomic.Int64
	errors    atomic.Int64
	lastErr   atomic.Int64 // status of the latest error reply
	hist      histogram
}

func newRPCLoop(method string, n int) *rpcLoop {
	return &rpcLoop{
		prefix: []byte(`{"method":` + strconv.Quote(method) + `,"id":`),
		event:  []byte(`"event":` + strconv.Quote(strings.ToLower(method))),
		sentAt: make([]atomic.Int64, n),
		ids:    make([]atomic.Int64, n),
	}
}

// send writes c's next request.
func (l *rpcLoop) send(c *conn) error {
	var b [96]byte
	p := append(b[:0], l.prefix...)
	p = strconv.AppendInt(p, l.ids[c.idx].Add(1), 10)
	p = append(p, '}')
	l.sentAt[c.idx].Store(time.Now().UnixNano())
	return c.write(ws.OpText, p)
}

func (l *rpcLoop) handle(c *conn, msg []byte) {
	if !bytes.Contains(msg, l.event) {
		return
	}
	now := time.Now()
	if l.stopped.Load() {
		return
	}
	if l.measuring.Load() {
		l.replies.Add(1)
		l.hist.record(now.Sub(time.Unix(0, l.sentAt[c.idx].Load())))
		if st := statusOf(msg); st != 200 {
			l.errors.Add(1)
			l.lastErr.Store(int64(st))
		}
	}
	l.send(c)
}

func runRPC(ctx context.Context, e *env) (result, error) {
	o := e.o
	r := result{scenario: "rpc", params: []param{{"conns", o.conns}, {"method", o.method}, {"duration", o.duration.String()}}}
	l := newRPCLoop(o.method, o.conns)
	op, err := openUsers(ctx, e, "rpc", users{handler: l.handle})
	if err != nil {
		return r, err
	}
	p := op.pool
	defer p.close()

	before, err := e.sample()
	if err != nil {
		return r, err
	}
	start := time.Now()
	l.measuring.Store(true)
	p.each(func(c *conn) { l.send(c) })
	stop := startProgress(ctx, e.stderr, "rpc", e.procs, func() string {
		return fmt.Sprintf("replies %d (%.0f/s) errors %d dropped %d",
			l.replies.Load(), float64(l.replies.Load())/time.Since(start).Seconds(), l.errors.Load(), p.dropped.Load())
	})
	sleep(ctx, o.duration)
	l.stopped.Store(true)
	elapsed := time.Since(start)
	stop()
	after, err := e.sample()
	if err != nil {
		return r, err
	}

	n := l.replies.Load()
	addOpenFigures(&r, op)
	r.add("requests", float64(n))
	r.add("requests_per_s", float64(n)/elapsed.Seconds())
	r.add("errors", float64(l.errors.Load()))
	r.add("conns_dropped", float64(p.dropped.Load()))
	addLatencyFigures(&r, &l.hist)
	addCPUFigures(&r, before, after, "request", n)
	if st := l.lastErr.Load(); st == 429 {
		r.note("the server answered 429: raise its per-connection rate limit (MSGO_OUTSIDE_RATE_LIMIT) above the per-connection request rate")
	} else if st != 0 {
		r.note("the server answered %d", st)
	}
	return r, nil
}

// addLatencyFigures adds p50, p90, p99 and max in milliseconds.
func addLatencyFigures(r *result, h *histogram) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r.add("p50_ms", ms(h.quantile(0.50)))
	r.add("p90_ms", ms(h.quantile(0.90)))
	r.add("p99_ms", ms(h.quantile(0.99)))
	r.add("max_ms", ms(h.maximum()))
}
