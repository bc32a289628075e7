//go:build linux

package live_test

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/db/dbtest"
)

// Fan-out benchmark shape: a room of benchMembers connections on one node,
// some of them (benchLoads) sending live.message.send in a closed loop (one
// request in flight each), every member counting the pushes it receives.
const (
	benchMembers = 5000
	benchSenders = 200 // members that join with live.user.join and may send
	// benchSampleEvery: one member in this many parses each push's send
	// time (its content) to measure send-to-receive latency.
	benchSampleEvery = 50
)

// benchLoads are the numbers of concurrent senders measured.
var benchLoads = []int{20, benchSenders}

// BenchmarkSendFanout measures live.message.send into a room of 5,000
// members on one node (memory store), with SQLite and with MariaDB:
// deliveries/s (pushes received, every member counted), messages/s, and
// the p50/p99 time from a send to its push being read by a member. b.N is
// the number of messages sent. Not part of the normal test run:
//
//	go test -run '^$' -bench BenchmarkSendFanout -benchtime 20000x ./app/live/
//
// Sub-benchmarks are named database/senders=N.
func BenchmarkSendFanout(b *testing.B) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", dbtest.SQLite}, {"mysql", dbtest.MySQL}} {
		// One room per database, built once (b.Run calls its function
		// several times as it grows b.N) and torn down before the next,
		// so that 5,000 clients are open at a time.
		f := newFanout(b, d.open(b))
		b.Run(d.name, func(b *testing.B) {
			for _, n := range benchLoads {
				b.Run(fmt.Sprintf("senders=%d", n), func(b *testing.B) { f.run(b, f.senders[:n]) })
			}
		})
		f.close()
	}
}

// benchModule's bench.room.join puts a connection in its room's group as
// live.user.join does, without the live.user.join push: joining 5,000
// members one by one pushes 12.5 million join frames, the join's cost, not
// the send's this benchmark is about. The senders join for real.
func benchModule(r *framework.Router) {
	r.Handle("bench.room.join", func(c *framework.Context) error {
		return c.App().JoinGroup(c.Context(), c.Client().ID(), framework.Room(c.Client().Code()))
	})
}

type fanout struct {
	srv     *msgotest.Server
	clients *benchClients
	members []*benchConn
	senders []*benchConn
	sent    int64 // messages sent so far, over every run
}

func newFanout(b *testing.B, gdb *gorm.DB) *fanout {
	b.Helper()
	srv := msgotest.Start(b, msgotest.Options{
		Modules: []msgotest.Module{
			func(r *framework.Router) { b.Cleanup(liveRegister(r, migrated(b, gdb))) },
			benchModule,
		},
		Config: framework.Config{RateLimit: -1, IdleTimeout: time.Hour},
	})
	clients, err := newBenchClients(runtime.GOMAXPROCS(0), benchMembers)
	if err != nil {
		b.Fatal(err)
	}
	f := &fanout{srv: srv, clients: clients}
	for i := range benchMembers {
		id := user(fmt.Sprintf("m%04d", i), "bench")
		c, err := clients.dial(srv.URL+"?auth="+srv.Token(b, id), i%benchSampleEvery == 0)
		if err != nil {
			b.Fatalf("dial member %d: %v", i, err)
		}
		f.members = append(f.members, c)
		join := `{"method":"bench.room.join","id":0}`
		if i < benchSenders {
			f.senders = append(f.senders, c)
			join = `{"method":"live.user.join","id":0}`
		}
		if err := c.request([]byte(join)); err != nil {
			b.Fatal(err)
		}
		if err := c.awaitReply(time.Minute); err != nil {
			b.Fatalf("member %d join: %v", i, err)
		}
	}
	return f
}

func (f *fanout) close() {
	f.clients.close()
	f.srv.Stop()
}

func (f *fanout) run(b *testing.B, senders []*benchConn) {
	for _, c := range f.members {
		c.takeLatencies()
	}
	target := f.sent + int64(b.N)
	var next atomic.Int64
	next.Store(f.sent)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() {
			for next.Add(1) <= target {
				now := strconv.FormatInt(time.Now().UnixNano(), 10)
				if err := s.request([]byte(`{"method":"live.message.send","id":1,"content":"` + now + `"}`)); err != nil {
					b.Error(err)
					return
				}
				if err := s.awaitReply(time.Minute); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, c := range f.members {
		if err := c.awaitPushes(target, time.Minute); err != nil {
			b.Fatalf("member %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	f.sent = target

	var lat []time.Duration
	for _, c := range f.members {
		lat = append(lat, c.takeLatencies()...)
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(float64(b.N)*benchMembers/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
