package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
)

// reloadOptions are reload's own flags.
type reloadOptions struct {
	members    int           // connections in the pushed room
	requesters int           // connections in a request loop
	reloads    int           // reloads in a row
	gap        time.Duration // between reloads
	command    string        // runs one reload
}

func reloadCommand() *cobra.Command {
	o := &options{conns: 19000, concurrency: 64, rate: 50, pushWorkers: 1, roomSize: 100, method: "index.index.whoami"}
	ro := &reloadOptions{members: 5000, requesters: 200, reloads: 10, gap: 3 * time.Second}
	cmd := subcommand("reload", "Reloads under load: every connection must stay, every push and reply arrive once",
		`--conns connections join rooms: the first --members room --room, the others
rooms of --room-size (<room>-0, <room>-1, ...); the last --requesters of them
run closed-loop requests (--method). Pushes go to --room through the manager
at --rate, one at a time, while --reload-command runs --reloads times,
--gap apart (default: this binary's "reload", with the environment given,
so MSGO_RUNTIME_DIR must name the server's). Reports each reload's pause as
the reload command printed it, connections closed, pushes lost, duplicated
or out of order, and failed requests.`,
		o, flagManager|flagRoom|flagRate, func(ctx context.Context, e *env) (result, error) { return runReload(ctx, e, ro) })
	f := cmd.Flags()
	f.IntVar(&o.roomSize, "room-size", o.roomSize, "members per room of the connections outside --room")
	f.StringVar(&o.method, "method", o.method, "the requesters' method")
	f.IntVar(&ro.members, "members", ro.members, "connections in the pushed room")
	f.IntVar(&ro.requesters, "requesters", ro.requesters, "connections in a request loop")
	f.IntVar(&ro.reloads, "reloads", ro.reloads, "reloads in a row")
	f.DurationVar(&ro.gap, "gap", ro.gap, "time between reloads")
	f.StringVar(&ro.command, "reload-command", "", `command that reloads the server (default: "<this binary> reload")`)
	return cmd
}

var pauseRE = regexp.MustCompile(`(\d+) connections handed over, pause ([0-9.]+) ms`)

func runReload(ctx context.Context, e *env, ro *reloadOptions) (result, error) {
	o := e.o
	n := o.conns
	r := result{scenario: "reload", params: []param{{"conns", n}, {"members", ro.members}, {"requesters", ro.requesters},
		{"rate", o.rate}, {"reloads", ro.reloads}}}
	if ro.members+ro.requesters > n || o.roomSize <= 0 {
		return r, fmt.Errorf("--members + --requesters must be at most --conns, and --room-size positive")
	}
	command := strings.Fields(ro.command)
	if len(command) == 0 {
		self, err := os.Executable()
		if err != nil {
			return r, err
		}
		command = []string{self, "reload"}
	}
	span := time.Duration(ro.reloads+1)*ro.gap + 2*time.Second
	total, err := pushCount(o.rate, span, ro.members)
	if err != nil {
		return r, err
	}
	s := newStamps("bench.reload", total, ro.members)
	last := make([]atomic.Int64, ro.members)
	var reordered atomic.Int64
	l := newRPCLoop(o.method, n)
	firstRequester := n - ro.requesters
	handler := func(c *conn, msg []byte) {
		switch {
		case c.idx >= firstRequester:
			l.handle(c, msg)
		case c.idx < ro.members:
			if seq, ok := intAfter(msg, `"seq":`); ok && bytes.Contains(msg, s.event) {
				if prev := last[c.idx].Swap(seq); seq < prev {
					reordered.Add(1)
				}
			}
			s.handle(c, msg)
		default:
			s.other.Add(1)
		}
	}
	room := func(i int) string {
		if i < ro.members {
			return o.room
		}
		return o.room + "-" + strconv.Itoa((i-ro.members)/o.roomSize)
	}
	op, err := openUsers(ctx, e, "reload", users{room: room, join: true, handler: handler})
	if err != nil {
		return r, err
	}
	p := op.pool
	defer p.close()
	settleJoins(ctx, e, "reload", s.other.Load, o.timeout)

	l.measuring.Store(true)
	p.each(func(c *conn) {
		if c.idx >= firstRequester {
			l.send(c)
		}
	})
	var pauses []float64
	var failures []string
	reloadsDone := make(chan struct{})
	go func() {
		defer close(reloadsDone)
		for range ro.reloads {
			if !sleep(ctx, ro.gap) {
				return
			}
			out, err := exec.CommandContext(ctx, command[0], command[1:]...).CombinedOutput()
			m := pauseRE.FindSubmatch(out)
			if err != nil || m == nil {
				failures = append(failures, fmt.Sprintf("%v: %s", err, bytes.TrimSpace(out)))
				continue
			}
			ms, _ := strconv.ParseFloat(string(m[2]), 64)
			pauses = append(pauses, ms)
			fmt.Fprintf(e.stderr, "reload: %s\n", bytes.TrimSpace(out))
		}
	}()
	prefix := bodyPrefix("room", o.room, "event", "bench.reload")
	pc := &pacer{rate: o.rate, total: total, workers: o.pushWorkers,
		send: func(ctx context.Context, seq int64, buf []byte) ([]byte, int, error) {
			buf = stampedBody(buf, prefix, seq, time.Now())
			n, err := e.manager.send(ctx, "/api/send/room", buf)
			return buf, n, err
		}}
	members := int64(ro.members)
	m, err := measurePushes(ctx, e, "reload", pc, s, p, func(sent int64) int64 { return sent * members })
	<-reloadsDone
	l.stopped.Store(true)
	if err != nil {
		return r, err
	}
	addOpenFigures(&r, op)
	r.add("reloads_ok", float64(len(pauses)))
	r.add("reloads_failed", float64(len(failures)))
	if len(pauses) > 0 {
		sorted := slices.Sorted(slices.Values(pauses))
		r.add("pause_median_ms", sorted[len(sorted)/2])
		r.add("pause_max_ms", sorted[len(sorted)-1])
	}
	for i, ms := range pauses {
		r.add("pause_"+strconv.Itoa(i+1)+"_ms", ms)
	}
	r.add("requests", float64(l.replies.Load()))
	r.add("request_errors", float64(l.errors.Load()))
	r.add("reordered", float64(reordered.Load()))
	m.addFigures(&r, "delivery", o.rate*float64(ro.members))
	// Per push: a push whose call succeeded reached every member, and one
	// whose call failed reached all of them or none (never half).
	var incomplete, missing int64
	for seq := int64(1); seq <= pc.sent.Load()+pc.failed.Load(); seq++ {
		got := int64(s.counts[seq].Load())
		switch {
		case pc.failedSeq(seq):
			r.note("push %d failed and reached %d of %d members", seq, got, members)
		case got != members:
			incomplete++
			missing += members - got
			if incomplete <= 5 {
				r.note("push %d succeeded and reached %d of %d members", seq, got, members)
			}
		}
	}
	r.add("pushes_incomplete", float64(incomplete))
	r.add("deliveries_missing", float64(missing))
	for _, f := range failures {
		r.note("reload failed: %s", f)
	}
	return r, nil
}
