package framework_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// BenchmarkClusterSendToUser measures cross-node send-to-user latency on
// three nodes sharing the real Redis: node 1 pushes to users connected to
// nodes 2 and 3, one send at a time, and the time until the client has the
// frame is reported as p50/p99.
//
//	go test -run=^$ -bench=ClusterSendToUser -benchtime=2000x ./framework/
func BenchmarkClusterSendToUser(b *testing.B) {
	nodes := startCluster(b, redisStores(b, 3))
	var cs []*msgotest.Client
	for i := range 10 {
		cs = append(cs, nodes[1+i%2].Dial(b, framework.Identity{ID: fmt.Sprintf("u%d", i), Type: framework.TypeWechatUser}))
	}
	ctx := context.Background()
	f, _ := framework.Push("bench", nil)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		c := cs[i%len(cs)]
		start := time.Now()
		if err := nodes[0].App().SendToUser(ctx, framework.TypeWechatUser, fmt.Sprintf("u%d", i%len(cs)), f); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Next(5*time.Second, func(r msgotest.Reply) bool { return r.Event == "bench" }); err != nil {
			on, oerr := nodes[0].App().IsOnline(ctx, framework.TypeWechatUser, fmt.Sprintf("u%d", i%len(cs)))
			b.Fatalf("send %d of %d: %v (online %v %v, frames %v)", i, b.N, err, on, oerr, c.Frames())
		}
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}

// BenchmarkClusterGroupFanout pushes to a group of 300 connections spread
// over three nodes on the real Redis and reports the time until the last
// member has the frame.
//
//	go test -run=^$ -bench=ClusterGroupFanout -benchtime=200x ./framework/
func BenchmarkClusterGroupFanout(b *testing.B) {
	nodes := startCluster(b, redisStores(b, 3))
	var cs []*msgotest.Client
	for i := range 300 {
		c := nodes[i%3].Dial(b, framework.Identity{ID: fmt.Sprintf("u%d", i), Type: framework.TypeWechatUser})
		c.Request(b, "test.group.join", map[string]any{"group": "g"})
		cs = append(cs, c)
	}
	ctx := context.Background()
	f, _ := framework.Push("bench", nil)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := nodes[0].App().SendToGroup(ctx, framework.Room("g"), f); err != nil {
			b.Fatal(err)
		}
		for _, c := range cs {
			c.Await(b, "bench")
		}
		lat = append(lat, time.Since(start))
	}
	b.ReportMetric(float64(len(cs)*b.N)/b.Elapsed().Seconds(), "deliveries/s")
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
