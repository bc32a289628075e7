package framework_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/cache/cachetest"
)

// groupModule exposes group and user operations to clients, for cluster tests.
func groupModule(r *framework.Router) {
	r.Handle("test.group.join", func(c *framework.Context) error {
		var p struct{ Group string }
		if err := c.Bind(&p); err != nil {
			return err
		}
		return c.App().JoinGroup(c.Context(), c.Client().ID(), framework.Room(p.Group))
	})
	r.Handle("test.group.send", func(c *framework.Context) error {
		var p struct {
			Group string
			N     int
		}
		if err := c.Bind(&p); err != nil {
			return err
		}
		f, err := framework.Push("test.group", map[string]any{"n": p.N})
		if err != nil {
			return err
		}
		return c.App().SendToGroup(c.Context(), framework.Room(p.Group), f)
	})
	r.Handle("test.group.count", func(c *framework.Context) error {
		var p struct{ Group string }
		if err := c.Bind(&p); err != nil {
			return err
		}
		n, err := c.App().GroupCount(c.Context(), framework.Room(p.Group))
		if err != nil {
			return err
		}
		return c.Success("", map[string]int{"count": n})
	})
	r.Handle("test.user.send", func(c *framework.Context) error {
		var p struct {
			Type, User string
			N          int
		}
		if err := c.Bind(&p); err != nil {
			return err
		}
		f, _ := framework.Push("test.user", map[string]any{"n": p.N})
		return c.App().SendToUser(c.Context(), p.Type, p.User, f)
	})
}

// startCluster starts n nodes sharing stores (one cluster) and the secret.
func startCluster(t testing.TB, stores []cache.Store) []*msgotest.Server {
	var nodes []*msgotest.Server
	secret := "cluster-secret"
	for i, st := range stores {
		nodes = append(nodes, msgotest.Start(t, msgotest.Options{
			Modules: []msgotest.Module{groupModule},
			Store:   st,
			Secret:  secret,
			NodeID:  fmt.Sprintf("n%d", i+1),
		}))
	}
	return nodes
}

func redisStores(t testing.TB, n int) []cache.Store {
	var out []cache.Store
	for _, r := range cachetest.RedisNodes(t, n) {
		out = append(out, r)
	}
	return out
}

func count(t *testing.T, c *msgotest.Client, group string) int {
	r := c.Request(t, "test.group.count", map[string]any{"group": group})
	var p struct{ Count int }
	r.Decode(t, &p)
	return p.Count
}

func TestClusterGroupDelivery(t *testing.T) {
	for name, stores := range map[string]func(t *testing.T) []cache.Store{
		"memory": func(t *testing.T) []cache.Store {
			m := cache.NewMemory()
			t.Cleanup(func() { m.Close() })
			return []cache.Store{m, m, m}
		},
		"redis": func(t *testing.T) []cache.Store { return redisStores(t, 3) },
	} {
		t.Run(name, func(t *testing.T) {
			nodes := startCluster(t, stores(t))
			// 30 members spread over three nodes; user u0 has a device on two nodes.
			var members []*msgotest.Client
			for i := range 30 {
				id := fmt.Sprintf("u%d", i%29)
				c := nodes[i%3].Dial(t, framework.Identity{ID: id, Type: framework.TypeWechatUser, Nickname: id})
				if r := c.Request(t, "test.group.join", map[string]any{"group": "g1"}); r.Status != 200 {
					t.Fatalf("join: %+v", r)
				}
				members = append(members, c)
			}
			outsider := nodes[1].Dial(t, framework.Identity{ID: "x", Type: framework.TypeWall})
			for _, n := range members[:3] {
				if got := count(t, n, "g1"); got != 29 {
					t.Fatalf("group count on a node: %d, want 29 distinct users", got)
				}
			}
			for k := range 5 {
				if r := members[k%3].Request(t, "test.group.send", map[string]any{"group": "g1", "n": k}); r.Status != 200 {
					t.Fatalf("send: %+v", r)
				}
			}
			// Pushes from different nodes have no order between them (the bus
			// orders one node's pushes): each arrives exactly once.
			for i, c := range members {
				got := map[int]bool{}
				for range 5 {
					r := c.Await(t, "test.group")
					var p struct{ N int }
					r.Decode(t, &p)
					if got[p.N] {
						t.Fatalf("member %d got push %d twice", i, p.N)
					}
					got[p.N] = true
				}
				if r, err := c.Next(100*time.Millisecond, func(r msgotest.Reply) bool { return r.Event == "test.group" }); err == nil {
					t.Fatalf("member %d got a duplicate: %+v", i, r)
				}
			}
			if _, err := outsider.Next(100*time.Millisecond, func(r msgotest.Reply) bool { return r.Event == "test.group" }); err == nil {
				t.Fatal("a connection outside the group got the push")
			}

			// A user's devices on two nodes both get a send-to-user from a third.
			if r := outsider.Request(t, "test.user.send", map[string]any{"type": "wechatUser", "user": "u0", "n": 7}); r.Status != 200 {
				t.Fatalf("user send: %+v", r)
			}
			members[0].Await(t, "test.user")
			members[29].Await(t, "test.user")

			// Online counts agree on every node.
			for _, n := range nodes {
				eventually(t, "online counts", func() bool {
					conns, users, err := n.App().OnlineCount(context.Background())
					return err == nil && conns == 31 && users == 30
				})
			}
			// Leaving by disconnect drops the count everywhere.
			members[1].Close()
			eventually(t, "count after a disconnect", func() bool { return count(t, members[0], "g1") == 28 })
		})
	}
}

func TestClusterDeliveredCounts(t *testing.T) {
	nodes := startCluster(t, redisStores(t, 3))
	for i := range 6 {
		c := nodes[i%3].Dial(t, framework.Identity{ID: "same", Type: framework.TypeWechatUser})
		c.Request(t, "test.group.join", map[string]any{"group": "room"})
	}
	f, _ := framework.Push("x", nil)
	ctx := context.Background()
	for _, tc := range []struct {
		t    framework.Target
		want int
	}{
		{framework.Target{User: "same", Type: framework.TypeWechatUser}, 6},
		{framework.Target{User: "same"}, 6},
		{framework.Target{Group: framework.Room("room")}, 6},
		{framework.Target{All: true}, 6},
		{framework.Target{All: true, Exclude: "same"}, 0},
		{framework.Target{User: "nobody"}, 0},
	} {
		n, err := nodes[0].App().Push(ctx, tc.t, f)
		if err != nil || n != tc.want {
			t.Fatalf("push %+v: delivered %d, %v; want %d", tc.t, n, err, tc.want)
		}
	}
	n, err := nodes[2].App().DisconnectUser(ctx, "", "same", 0)
	if err != nil || n != 6 {
		t.Fatalf("disconnect: %d, %v", n, err)
	}
}

// TestClusterRedisRestart: a Redis that restarts empty (no persistence) is
// refilled by every node from its own connections; delivery and counts
// recover, and while it is down local delivery keeps working.
func TestClusterRedisRestart(t *testing.T) {
	rs := cachetest.StartRedis(t)
	var stores []cache.Store
	for range 3 {
		st, err := cache.NewRedis(cache.RedisOptions{Addr: rs.Addr(), Prefix: "restart:"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	nodes := startCluster(t, stores)
	var cs []*msgotest.Client
	for i := range 9 {
		c := nodes[i%3].Dial(t, framework.Identity{ID: fmt.Sprintf("u%d", i), Type: framework.TypeWechatUser})
		c.Request(t, "test.group.join", map[string]any{"group": "g"})
		cs = append(cs, c)
	}
	eventually(t, "count before", func() bool { return count(t, cs[0], "g") == 9 })

	rs.Stop()
	// Local delivery still works; cross-node sends fail with an error status.
	r := cs[0].Request(t, "test.group.send", map[string]any{"group": "g", "n": 1})
	cs[0].Await(t, "test.group")
	cs[3].Await(t, "test.group")
	if r.Status != 503 {
		t.Fatalf("send with Redis down answered %d, want 503 (local members still got it)", r.Status)
	}
	rs.Start()
	eventually(t, "counts after Redis came back", func() bool {
		for _, c := range cs[:3] {
			if count(t, c, "g") != 9 {
				return false
			}
		}
		return true
	})
	for _, c := range cs {
		c.Frames()
	}
	eventually(t, "cross-node delivery after Redis came back", func() bool {
		cs[1].Request(t, "test.group.send", map[string]any{"group": "g", "n": 2})
		for _, c := range cs {
			if _, err := c.Next(time.Second, func(r msgotest.Reply) bool {
				return r.Event == "test.group" && string(r.Param) == `{"n":2}`
			}); err != nil {
				return false
			}
		}
		return true
	})
	var online int
	eventually(t, "online users", func() bool {
		_, online, _ = nodes[2].App().OnlineCount(context.Background())
		return online == 9
	})
}
