package kefu_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/kefu"
	"msgo/app/kefu/model"
	"msgo/app/kefu/model/modeltest"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/db/dbtest"
)

// Chat benchmark population (the figure: 1,000 users, 20 agents).
const (
	benchUsers  = 1000
	benchAgents = 20
)

// benchConfig is the production default's worker pool (msgotest's is
// smaller).
var benchConfig = framework.Config{Workers: 64 * runtime.GOMAXPROCS(0)}

// BenchmarkChat measures chat messages per second end to end: 1,000 users
// each send and wait for the reply (closed loop, all at once); an op is one
// message stored and pushed to all 20 agents, and the clock stops when
// every agent has every message. Clients run in this process, over
// loopback, so they share the CPU with the node.
//
//	go test -run '^$' -bench Chat -benchtime 20000x ./app/kefu
//
// "one-node" is the embedded default store with the database; "two-nodes"
// puts the users on one node and the agents on another, over Redis.
func BenchmarkChat(b *testing.B) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"mysql", dbtest.MySQL}, {"sqlite", dbtest.SQLite}} {
		for _, nodes := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/%s", d.name, map[int]string{1: "one-node", 2: "two-nodes"}[nodes]), func(b *testing.B) {
				benchChat(b, newChatBench(b, d.open(b), nodes))
			})
		}
	}
}

type chatBench struct {
	users  []*msgotest.Client
	agents []*msgotest.Client
	got    []atomic.Int64 // kefu.message pushes each agent received
	stop   chan struct{}
}

func newChatBench(b *testing.B, gdb *gorm.DB, n int) *chatBench {
	nodes := startNodesConfig(b, migrated(b, gdb), n, benchConfig)
	cb := &chatBench{got: make([]atomic.Int64, benchAgents), stop: make(chan struct{})}
	for i := range benchAgents {
		cb.agents = append(cb.agents, nodes[n-1].Dial(b, agent(fmt.Sprint("k", i))))
	}
	for i := range benchUsers {
		cb.users = append(cb.users, nodes[0].Dial(b, user(fmt.Sprintf("oBench%022d", i))))
	}
	// Agents drain their frames in bulk and count the pushes.
	var wg sync.WaitGroup
	for i, a := range cb.agents {
		wg.Go(func() {
			for {
				for _, f := range a.Frames() {
					if f.Event == "kefu.message" {
						cb.got[i].Add(1)
					}
				}
				select {
				case <-cb.stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
		})
	}
	b.Cleanup(func() { close(cb.stop); wg.Wait() })
	return cb
}

func benchChat(b *testing.B, cb *chatBench) {
	base := make([]int64, len(cb.got))
	for i := range cb.got {
		base[i] = cb.got[i].Load()
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism((benchUsers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		u := cb.users[int(next.Add(1)-1)%len(cb.users)]
		for pb.Next() {
			r := u.Request(b, "kefu.chat.send", map[string]any{"msg": "你好, is anyone there? 😀"})
			if r.Status != 200 {
				b.Errorf("send: %d %s", r.Status, r.Info)
				return
			}
			u.Frames() // the user's own copy of the push came before the reply
		}
	})
	deadline := time.Now().Add(time.Minute)
	for i := range cb.got {
		for cb.got[i].Load()-base[i] < int64(b.N) {
			if time.Now().After(deadline) {
				b.Fatalf("agent %d got %d of %d messages", i, cb.got[i].Load()-base[i], b.N)
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkHistory measures kefu.chat.history end to end (request over the
// socket, query, reply) on a chat table of 1,000,000 rows over 10,000
// users, seeded as for the model's BenchmarkQueries. One client asks at a
// time, so an op is one request's latency. Seeding takes a while, so it
// runs only with MSGO_BENCH_SEED=1:
//
//	MSGO_BENCH_SEED=1 go test -run '^$' -bench History ./app/kefu
func BenchmarkHistory(b *testing.B) {
	modeltest.EachSeeded(b, func(b *testing.B, gdb *gorm.DB, _ *model.Store, maxID int64) {
		// One client asks as fast as it can: over the per-connection rate
		// limit, which is not what is measured here.
		cfg := benchConfig
		cfg.RateLimit = -1
		srv := startNodeConfig(b, kefu.Options{DB: gdb}, nil, "history", cfg)
		k := srv.Dial(b, agent("k1"))
		u := srv.Dial(b, user(modeltest.OpenID(7)))
		rng := rand.New(rand.NewPCG(5, 6))
		openid := func() string { return modeltest.OpenID(rng.IntN(modeltest.OpenIDs)) }
		run := func(name string, cl *msgotest.Client, params func() map[string]any) {
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					r := cl.Request(b, "kefu.chat.history", params())
					if r.Status != 200 || len(r.Param) < 100 {
						b.Fatalf("history: %d %s %.100s", r.Status, r.Info, r.Param)
					}
				}
			})
		}
		run("agent-newest", k, func() map[string]any { return map[string]any{"openid": openid()} })
		run("agent-page", k, func() map[string]any {
			return map[string]any{"openid": openid(), "before_id": maxID/2 + rng.Int64N(maxID/2), "limit": 20}
		})
		run("user-newest", u, func() map[string]any { return nil })
	})
}
