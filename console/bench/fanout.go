package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/spf13/cobra"

	"msgo/library/encrypt"
)

// maxSeqBits bounds the seen-bitmaps of a run (connections x pushes bits).
const maxSeqBits = 8 << 30 // 1 GiB

func fanoutCommand() *cobra.Command {
	o := &options{conns: 5000, concurrency: 64, duration: 10 * time.Second, rate: 50, pushWorkers: 4, userType: encrypt.TypeWechatUser}
	cmd := subcommand("fanout", "Room fan-out: pushes through the manager port to N room members",
		`--conns members join room --room with live.user.join; then --rate pushes per
second go through the manager port (POST /api/send/room, event bench.fanout,
param {"seq","ts"}) for --duration. Every member records the receipt latency
(now - ts), gaps and duplicates. Reports offered and achieved deliveries/s,
loss, duplicates, latency percentiles and, with --pid, server CPU µs per
delivery (the manager's HTTP work included).

With several nodes in --url (a cluster sharing one Redis), members connect
round-robin over them, so the room spans every node and each push crosses
the bus to reach them; --pid then lists every node's pid (and Redis's, to
see what the bus costs it).`,
		o, flagManager|flagRoom|flagRate|flagDuration|flagNodes, runFanout)
	cmd.Flags().StringVar(&o.userType, "type", o.userType, "members' user type: wechatUser or wall")
	return cmd
}

func runFanout(ctx context.Context, e *env) (result, error) {
	o := e.o
	r := result{scenario: "fanout", params: []param{{"members", o.conns}, {"nodes", len(e.endpoints)}, {"room", o.room}, {"rate", o.rate}, {"duration", o.duration.String()}}}
	if o.userType != encrypt.TypeWechatUser && o.userType != encrypt.TypeWall {
		return r, fmt.Errorf("--type must be %s or %s", encrypt.TypeWechatUser, encrypt.TypeWall)
	}
	total, err := pushCount(o.rate, o.duration, o.conns)
	if err != nil {
		return r, err
	}
	s := newStamps("bench.fanout", total, o.conns)
	room := func(int) string { return o.room }
	nodes := len(e.endpoints)
	op, err := openUsers(ctx, e, "fanout", users{typ: o.userType, room: room, join: true, handler: s.handle,
		node: func(i int) int { return i % nodes }})
	if err != nil {
		return r, err
	}
	p := op.pool
	defer p.close()

	// Joins push live.user.join to the walls and live.room.count to the
	// room (older servers: live.user.join to the whole room, N²/2 frames).
	// Measure only once those pushes are over.
	settleJoins(ctx, e, "fanout", s.other.Load, o.timeout)

	members := p.opened.Load() - p.dropped.Load()
	prefix := bodyPrefix("room", o.room, "event", "bench.fanout")
	pc := &pacer{rate: o.rate, total: total, workers: o.pushWorkers,
		send: func(ctx context.Context, seq int64, buf []byte) ([]byte, int, error) {
			buf = stampedBody(buf, prefix, seq, time.Now())
			n, err := e.manager.send(ctx, "/api/send/room", buf)
			return buf, n, err
		}}
	m, err := measurePushes(ctx, e, "fanout", pc, s, p, func(sent int64) int64 { return sent * members })
	if err != nil {
		return r, err
	}

	addOpenFigures(&r, op)
	r.add("members", float64(members))
	m.addFigures(&r, "delivery", o.rate*float64(members))
	return r, nil
}

// pushCount returns how many pushes a run makes, bounded so the per-member
// seen-bitmaps stay within maxSeqBits.
func pushCount(rate float64, d time.Duration, members int) (int64, error) {
	if rate <= 0 || rate > 1e6 || math.IsNaN(rate) {
		return 0, errors.New("--rate must be in (0, 1e6]")
	}
	total := int64(math.Ceil(rate * d.Seconds()))
	if total < 1 {
		return 0, errors.New("--rate x --duration must make at least one push")
	}
	if total*int64(members) > maxSeqBits {
		return 0, fmt.Errorf("%d pushes to %d members is more than the bench tracks (%d); shorten --duration", total, members, maxSeqBits)
	}
	return total, nil
}

// pushes is the outcome of a paced push phase.
type pushes struct {
	pc          *pacer
	s           *stamps
	first, last time.Time // the first push and the last receipt
	pushEnd     time.Time // the last push returned
	expected    int64
	dropped     int64
	before      usage
	after       usage
}

// measurePushes runs pc while s records receipts, then waits up to --drain
// for the expected deliveries, and samples the server around it all.
func measurePushes(ctx context.Context, e *env, name string, pc *pacer, s *stamps, p *pool, expect func(sent int64) int64) (pushes, error) {
	m := pushes{pc: pc, s: s}
	var err error
	if m.before, err = e.sample(); err != nil {
		return m, err
	}
	start := time.Now()
	stop := startProgress(ctx, e.stderr, name, e.procs, func() string {
		el := time.Since(start).Seconds()
		return fmt.Sprintf("pushes %d/%d errors %d deliveries %d (%.0f/s) dups %d dropped %d",
			pc.sent.Load(), pc.total, pc.failed.Load(), s.unique(), float64(s.unique())/el, s.dups.Load(), p.dropped.Load())
	})
	m.first, m.pushEnd = pc.run(ctx)
	m.expected = expect(pc.sent.Load())
	// Wait for the stragglers: until all expected arrived, nothing arrived
	// for a second, or --drain is over. A push whose call failed may have
	// been delivered all the same: its deliveries are not counted.
	settle(ctx, s.received.Load, func() bool { return m.received() >= m.expected }, time.Second, e.o.drain)
	stop()
	if m.after, err = e.sample(); err != nil {
		return m, err
	}
	m.last = time.Unix(0, s.last.Load())
	m.dropped = p.dropped.Load()
	return m, nil
}

// received returns the deliveries of the pushes whose calls succeeded.
func (m pushes) received() int64 { return m.s.unique() - m.s.uniqueOf(m.pc.failedList()) }

// addFigures reports a push phase: offered is the deliveries per second the
// schedule offers, unit names one delivery in the CPU figure.
func (m pushes) addFigures(r *result, unit string, offered float64) {
	pc, s := m.pc, m.s
	sent, got := pc.sent.Load(), m.received()
	r.add("pushes_sent", float64(sent))
	r.add("push_errors", float64(pc.failed.Load()))
	r.add("push_rate", float64(sent)/m.pushEnd.Sub(m.first).Seconds())
	if late := pc.late; late > max(time.Duration(float64(time.Second)/pc.rate), 100*time.Millisecond) {
		r.note("the schedule slipped: the last call started %v late, as all %d push workers were waiting on the manager (each stamp is taken when its call starts, so latencies exclude the wait)", late.Round(time.Millisecond), pc.workers)
	}
	r.add("manager_delivered", float64(pc.delivered.Load()))
	r.add("deliveries_offered_per_s", offered)
	r.add("deliveries_expected", float64(m.expected))
	r.add("deliveries_received", float64(got))
	r.add("failed_push_deliveries", float64(s.unique()-got))
	span := m.last.Sub(m.first).Seconds()
	if got == 0 || span <= 0 {
		span = math.NaN()
	}
	r.add("deliveries_per_s", float64(got)/span)
	r.add("loss", float64(m.expected-got))
	lossPct := math.NaN()
	if m.expected > 0 {
		lossPct = float64(m.expected-got) / float64(m.expected) * 100
	}
	r.add("loss_pct", lossPct)
	r.add("duplicates", float64(s.dups.Load()))
	r.add("stray", float64(s.stray.Load()))
	r.add("conns_dropped", float64(m.dropped))
	addLatencyFigures(r, &s.hist)
	addCPUFigures(r, m.before, m.after, unit, got)
	for _, msg := range pc.errs.top(3) {
		r.note("push: %s", msg)
	}
}
