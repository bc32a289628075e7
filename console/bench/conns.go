package bench

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"msgo/library/encrypt"
)

// heartbeatEvery keeps held connections well inside the server's default
// 60 s idle timeout.
const heartbeatEvery = 20 * time.Second

func connsCommand() *cobra.Command {
	o := &options{conns: 10000, concurrency: 64, duration: 5 * time.Second, roomSize: 100}
	return subcommand("conns", "Hold N authenticated connections and measure server RSS per connection",
		`Opens --conns authenticated connections (each calls live.user.join when
--join is set, spread over rooms of --room-size members so the join pushes stay
bounded), holds them for --duration, and reports connects/s and, with --pid,
the server's RSS growth per connection: (RSS after - RSS before) / N. With
several --url nodes, connection i goes to node i mod n.`,
		o, flagRoom|flagJoin|flagDuration|flagNodes, runConns)
}

func connectRateCommand() *cobra.Command {
	o := &options{conns: 10000, concurrency: 64, roomSize: 100}
	return subcommand("connect-rate", "Open N connections as fast as possible and measure server CPU per connect",
		`Opens --conns connections with --concurrency dialers as fast as the server
takes them (handshake with token decryption, plus live.user.join with --join),
and reports connects/s and, with --pid, server CPU µs per connect from
/proc utime+stime. Connections are dropped with a reset afterwards.`,
		o, flagRoom|flagJoin, runConnectRate)
}

// roomOf returns connection i's room: --room, or --room-<i/room-size> when
// members are spread over rooms.
func (o *options) roomOf(i int) string {
	if o.roomSize <= 0 || o.conns <= o.roomSize {
		return o.room
	}
	return fmt.Sprintf("%s-%d", o.room, i/o.roomSize)
}

// opened is the outcome of opening a pool of connections.
type opened struct {
	pool   *pool
	want   int
	took   time.Duration
	before usage // the server right before the first dial
	after  usage // and right after the last connection opened
}

// users says who a scenario's --conns connections are.
type users struct {
	typ     string           // user type; default wechatUser
	room    func(int) string // connection i's room code; nil: none
	node    func(int) int    // index of connection i's endpoint; nil: the first
	join    bool             // call live.user.join after the handshake
	handler handler
}

// openUsers mints a token per connection, then opens them all. The server
// samples of the result bracket the dialing only: every token is minted
// before the first dial.
func openUsers(ctx context.Context, e *env, name string, u users) (opened, error) {
	n := e.o.conns
	typ := cmp.Or(u.typ, encrypt.TypeWechatUser)
	tokens, err := e.tokens(n, func(i int) encrypt.Claims {
		cl := encrypt.Claims{ID: e.userID(i), Type: typ, Nickname: "bench"}
		if u.room != nil {
			cl.Code = u.room(i)
		}
		return cl
	})
	if err != nil {
		return opened{}, err
	}
	return openPool(ctx, e, name, openSpec{
		n:           n,
		concurrency: e.o.concurrency,
		endpoint: func(i int) endpoint {
			if u.node == nil {
				return e.endpoints[0]
			}
			return e.endpoints[u.node(i)]
		},
		token:       func(i int) string { return tokens[i] },
		join:        u.join,
		joinTimeout: 10 * time.Second,
		handler:     u.handler,
	})
}

// openPool opens spec's connections within --timeout, with a progress line.
func openPool(ctx context.Context, e *env, name string, spec openSpec) (opened, error) {
	op := opened{want: spec.n}
	var err error
	if op.before, err = e.sample(); err != nil {
		return opened{}, err
	}
	p := newPool(spec.n, heartbeatEvery)
	stop := startProgress(ctx, e.stderr, name, e.procs, func() string {
		return fmt.Sprintf("open %d/%d failed %d dropped %d", p.opened.Load(), spec.n, p.failed.Load(), p.dropped.Load())
	})
	defer stop()
	octx, cancel := context.WithTimeout(ctx, e.o.timeout)
	defer cancel()
	start := time.Now()
	p.open(octx, e.dialer, spec)
	op.took = time.Since(start)
	if op.after, err = e.sample(); err != nil {
		p.close()
		return opened{}, err
	}
	if p.opened.Load() == 0 {
		p.close()
		if ctx.Err() != nil {
			return opened{}, ctx.Err()
		}
		return opened{}, fmt.Errorf("no connection opened: %s", strings.Join(p.errs.top(3), "; "))
	}
	op.pool = p
	return op, nil
}

// addOpenFigures adds what every scenario that opens connections reports.
func addOpenFigures(r *result, op opened) {
	p := op.pool
	r.add("conns_opened", float64(p.opened.Load()))
	r.add("conns_failed", float64(p.failed.Load()))
	r.add("open_s", op.took.Seconds())
	r.add("connects_per_s", float64(p.opened.Load())/op.took.Seconds())
	if tried := p.opened.Load() + p.failed.Load(); tried < int64(op.want) {
		r.note("opening stopped after %d of %d connections (--timeout, or most attempts failed)", tried, op.want)
	}
	for _, m := range p.errs.top(3) {
		r.note("%s", m)
	}
}

func runConns(ctx context.Context, e *env) (result, error) {
	o := e.o
	r := result{scenario: "conns", params: []param{{"conns", o.conns}, {"nodes", len(e.endpoints)}, {"join", o.join}, {"room_size", o.roomSize}, {"hold", o.duration.String()}}}
	nodes := len(e.endpoints) // several nodes: connection i goes to node i mod n
	op, err := openUsers(ctx, e, "conns", users{room: o.roomOf, join: o.join, node: func(i int) int { return i % nodes }})
	if err != nil {
		return r, err
	}
	p := op.pool
	defer p.close()
	stop := startProgress(ctx, e.stderr, "conns", e.procs, func() string {
		return fmt.Sprintf("holding %d dropped %d", p.opened.Load()-p.dropped.Load(), p.dropped.Load())
	})
	sleep(ctx, o.duration)
	stop()
	after, err := e.sample() // after the hold: the server has settled
	if err != nil {
		return r, err
	}

	addOpenFigures(&r, op)
	r.add("conns_dropped", float64(p.dropped.Load()))
	if op.before.server {
		r.add("server_rss_before_mib", float64(op.before.rssKiB)/1024)
		r.add("server_rss_after_mib", float64(after.rssKiB)/1024)
		r.add("server_rss_per_conn_kib", float64(after.rssKiB-op.before.rssKiB)/float64(p.opened.Load()))
	}
	return r, nil
}

func runConnectRate(ctx context.Context, e *env) (result, error) {
	o := e.o
	r := result{scenario: "connect-rate", params: []param{{"conns", o.conns}, {"concurrency", o.concurrency}, {"join", o.join}, {"room_size", o.roomSize}}}
	op, err := openUsers(ctx, e, "connect-rate", users{room: o.roomOf, join: o.join})
	if err != nil {
		return r, err
	}
	op.pool.close()
	addOpenFigures(&r, op)
	addCPUFigures(&r, op.before, op.after, "connect", op.pool.opened.Load())
	return r, nil
}
