package proxy_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/framework/proxy"
	"msgo/library/cache"
	"msgo/library/cache/cachetest"
)

// Three nodes on one Redis, the backend down while clients on every node
// come and go: once it is back, every disconnect event reaches it, and the
// rooms /connect named work across the nodes.
func TestClusterDeliversEveryEventAfterOutage(t *testing.T) {
	b := newBackend(t)
	var up atomic.Bool
	b.handle("/disconnect", unless(&up))
	b.handle("/connect", answerJSON(`{"status":200,"rooms":["all"]}`))
	opts := cachetest.Options(t) // one fresh prefix: the cluster's
	var stores []*cache.Redis
	for range 3 {
		s, err := cache.NewRedis(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	events := func() *proxy.RedisEvents {
		ev := proxy.NewRedisEvents(proxy.RedisOptions{Addr: opts.Addr, Prefix: opts.Prefix})
		t.Cleanup(func() { ev.Close() })
		return ev
	}
	cfg := fast
	cfg.Connect = true
	cfg.Methods = []string{"shop"}
	var nodes []*node
	for i, s := range stores {
		nodes = append(nodes, startNode(t, b, cfg, msgotest.Options{Store: s, NodeID: fmt.Sprint("c", i), Secret: "cluster"}, events()))
	}
	const perNode = 10
	for i, n := range nodes {
		for j := range perNode {
			c := n.Dial(t, guest(fmt.Sprintf("u%d-%d", i, j)))
			if r := c.Request(t, "shop.cart.add", nil); r.Status != 200 {
				t.Fatalf("rpc on node %d: %+v", i, r)
			}
			if j%2 == 0 {
				c.Close()
			}
		}
	}
	if got, err := nodes[0].App().GroupCount(t.Context(), framework.Room("all")); err != nil || got != 3*perNode/2 {
		t.Fatalf("room all = %d, %v; want %d", got, err, 3*perNode/2)
	}
	time.Sleep(300 * time.Millisecond) // attempts fail meanwhile
	for _, n := range nodes {
		n.Stop() // the rest close with 1001 while the backend is down
		n.p.Stop()
	}
	up.Store(true)
	// A node of the cluster comes back and delivers every stored event.
	startNode(t, b, cfg, msgotest.Options{Store: stores[0], NodeID: "c0", Secret: "cluster"}, events())
	got := byUser(b.awaitTaken(t, "/disconnect", 3*perNode, 10*time.Second))
	for i := range nodes {
		for j := range perNode {
			e := got[fmt.Sprintf("u%d-%d", i, j)]
			want := 1001.0
			if j%2 == 0 {
				want = 1006
			}
			if e == nil || e["code"] != want {
				t.Fatalf("u%d-%d: %v, want code %v", i, j, e, want)
			}
		}
	}
}
