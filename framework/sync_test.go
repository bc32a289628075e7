package framework_test

import (
	"fmt"
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/cache/cachetest"
)

// syncModule: test.sync.join joins group "g"; test.sync.push pushes n frames
// numbered from "from" to it; with "sync" set the handler calls App.Sync
// before pushing.
func syncModule(r *framework.Router) {
	r.Handle("test.sync.join", func(c *framework.Context) error {
		return c.App().JoinGroup(c.Context(), c.Client().ID(), framework.Room("g"))
	})
	r.Handle("test.sync.push", func(c *framework.Context) error {
		var p struct {
			From, N int
			Sync    bool
		}
		if err := c.Bind(&p); err != nil {
			return err
		}
		if p.Sync {
			if err := c.App().Sync(c.Context()); err != nil {
				return err
			}
		}
		for i := p.From; i < p.From+p.N; i++ {
			f, err := framework.Push("test.sync", map[string]int{"n": i})
			if err != nil {
				return err
			}
			if err := c.App().SendToGroup(c.Context(), framework.Room("g"), f); err != nil {
				return err
			}
		}
		return nil
	})
}

// After node A's pushes have been published, node B's own push made after
// Sync reaches B's connections after them.
func TestSyncOrdersPushesAcrossNodes(t *testing.T) {
	for name, stores := range map[string]func(t *testing.T) []cache.Store{
		"memory": func(t *testing.T) []cache.Store {
			m := cache.NewMemory()
			t.Cleanup(func() { m.Close() })
			return []cache.Store{m, m}
		},
		"redis": func(t *testing.T) []cache.Store {
			rs := cachetest.RedisNodes(t, 2)
			return []cache.Store{rs[0], rs[1]}
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := stores(t)
			var nodes []*msgotest.Server
			for i := range 2 {
				nodes = append(nodes, msgotest.Start(t, msgotest.Options{
					Modules: []msgotest.Module{syncModule}, Store: st[i], Secret: "s", NodeID: fmt.Sprintf("sync%d", i),
				}))
			}
			a := nodes[0].Dial(t, framework.Identity{ID: "a", Type: framework.TypeWall})
			b := nodes[1].Dial(t, framework.Identity{ID: "b", Type: framework.TypeWall})
			if r := b.Request(t, "test.sync.join", nil); r.Status != 200 {
				t.Fatalf("join: %+v", r)
			}
			const rounds, n = 20, 50
			next := 0
			for range rounds {
				if r := a.Request(t, "test.sync.push", map[string]any{"from": next, "n": n}); r.Status != 200 {
					t.Fatalf("push on A: %+v", r)
				}
				next += n
				if r := b.Request(t, "test.sync.push", map[string]any{"from": next, "n": 1, "sync": true}); r.Status != 200 {
					t.Fatalf("push on B: %+v", r)
				}
				next++
			}
			for want := range next {
				r := b.Await(t, "test.sync")
				var p struct{ N int }
				r.Decode(t, &p)
				if p.N != want {
					t.Fatalf("B's connection got push %d, want %d", p.N, want)
				}
			}
		})
	}
}
