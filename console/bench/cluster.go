package bench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"msgo/library/encrypt"
)

func clusterCommand() *cobra.Command {
	o := &options{conns: 300, concurrency: 64, duration: 10 * time.Second, rate: 1000, pushWorkers: 16}
	cmd := subcommand("cluster", "Cross-node send-to-user latency",
		`--url lists the nodes (comma-separated). --conns users connect round-robin
over them, one connection each; then --rate sends per second go through the
manager of node --manager-node (POST /api/send/user, event bench.cluster,
param {"seq","ts"}), each to a user on another node, for --duration. Reports
cross-node latency percentiles, loss and, with --pid (every node's pid), the
cluster's CPU µs per send.`,
		o, flagManager|flagRate|flagNodes|flagDuration, runCluster)
	cmd.Flags().IntVar(&o.managerNode, "manager-node", 0, "index in --url of the node whose manager --manager is")
	return cmd
}

func runCluster(ctx context.Context, e *env) (result, error) {
	o := e.o
	nodes := len(e.endpoints)
	r := result{scenario: "cluster", params: []param{{"nodes", nodes}, {"users", o.conns}, {"rate", o.rate}, {"duration", o.duration.String()}}}
	if nodes < 2 {
		return r, errors.New("cluster needs at least two node URLs in --url")
	}
	if o.managerNode < 0 || o.managerNode >= nodes {
		return r, fmt.Errorf("--manager-node must be 0..%d", nodes-1)
	}
	nodeOf := func(i int) int { return i % nodes }
	var targets []int
	for i := range o.conns {
		if nodeOf(i) != o.managerNode {
			targets = append(targets, i)
		}
	}
	if len(targets) == 0 {
		return r, errors.New("no user on a node other than the manager's: raise --conns")
	}
	total, err := pushCount(o.rate, o.duration, o.conns)
	if err != nil {
		return r, err
	}
	s := newStamps("bench.cluster", total, o.conns)
	op, err := openUsers(ctx, e, "cluster", users{node: nodeOf, handler: s.handle})
	if err != nil {
		return r, err
	}
	p := op.pool
	defer p.close()
	if err := awaitOnline(ctx, e.manager, e.userID(targets[len(targets)-1]), o.timeout); err != nil {
		return r, err
	}

	prefixes := make([][]byte, len(targets))
	for k, i := range targets {
		prefixes[k] = bodyPrefix("id", e.userID(i), "type", encrypt.TypeWechatUser, "event", "bench.cluster")
	}
	pc := &pacer{rate: o.rate, total: total, workers: o.pushWorkers,
		send: func(ctx context.Context, seq int64, buf []byte) ([]byte, int, error) {
			buf = stampedBody(buf, prefixes[int(seq-1)%len(prefixes)], seq, time.Now())
			n, err := e.manager.send(ctx, "/api/send/user", buf)
			return buf, n, err
		}}
	// Each send targets one user with one connection: one delivery, unless
	// that connection was dropped.
	m, err := measurePushes(ctx, e, "cluster", pc, s, p, func(sent int64) int64 { return sent })
	if err != nil {
		return r, err
	}
	addOpenFigures(&r, op)
	m.addFigures(&r, "send", o.rate)
	return r, nil
}

// awaitOnline polls the manager until user id is online: presence reaches the
// shared store shortly after the handshake, and a send before it would miss.
func awaitOnline(ctx context.Context, m *managerClient, id string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	path := "/api/online/check?id=" + url.QueryEscape(id)
	for {
		var d struct {
			Online bool `json:"is_online"`
		}
		err := m.call(ctx, "GET", path, nil, &d)
		if err == nil && d.Online {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("user %s not online", id)
			}
			return fmt.Errorf("waiting for presence: %w", err)
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return ctx.Err()
		}
	}
}
