package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// The reload's pause, in-process and without clients: each connection is
// an eventfd (pollable, never readable, one descriptor) with the state a
// live.user.join leaves: a room, a close key and a close controller; the
// first 5,000 share one room, the others are in rooms of 100.
// MSGO_BENCH_HANDOFF_CONNS sets how many (default 19,000: under the limit
// of 20,000 descriptors, one set alive at a time).
//
//	go test -run '^$' -bench 'Handoff' -count 3 ./console/

const benchController = "Bench.Room"

func benchConnCount(b *testing.B) int {
	if v := os.Getenv("MSGO_BENCH_HANDOFF_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 19000
}

func benchHandoffNode(b *testing.B) *msgotest.Server {
	mod := func(r *framework.Router) {
		r.OnClose(benchController, func(_ context.Context, _ *framework.App, _ framework.Client) {})
	}
	s := msgotest.Start(b, msgotest.Options{NodeID: "bench", Modules: []msgotest.Module{mod}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Freeze(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchHandoffConns is what the old process of a reload would export.
func benchHandoffConns(n int) []handedConn {
	conns := make([]handedConn, n)
	for i := range conns {
		room := "big"
		if i >= 5000 {
			room = "r-" + strconv.Itoa(i/100)
		}
		conns[i] = handedConn{ID: framework.ConnID(i + 1), State: framework.ConnState{
			Identity:    framework.Identity{ID: "u" + strconv.Itoa(i), Type: "wechat_user", Nickname: "user " + strconv.Itoa(i)},
			Groups:      []framework.Group{framework.Room(room)},
			CloseKeys:   []string{"live:room:" + room + ":conns"},
			Controllers: []string{benchController},
			RateTokens:  10,
		}}
		conns[i].State.Transport.LastSeen = time.Now().Unix()
	}
	return conns
}

func benchEventFDs(b *testing.B, n int) []int {
	fds := make([]int, n)
	for i := range fds {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			closeAll(fds[:i])
			b.Fatalf("eventfd %d: %v", i, err)
		}
		fds[i] = fd
	}
	return fds
}

// BenchmarkHandoffExport is the old process's share of the pause: export
// every connection and encode it in batches (sending is left out).
func BenchmarkHandoffExport(b *testing.B) {
	n := benchConnCount(b)
	s := benchHandoffNode(b)
	if err := adoptConns(s.Server, benchHandoffConns(n), benchEventFDs(b, n)); err != nil {
		b.Fatal(err)
	}
	var size int
	for b.Loop() {
		size = 0
		ex, err := exportConns(s.Server, func(p []byte, _ []int) error { size += len(p); return nil })
		if err != nil || ex.conns != n {
			b.Fatalf("%d of %d exported: %v", ex.conns, n, err)
		}
	}
	b.ReportMetric(float64(size), "state_bytes")
	s.Stop()
}

// BenchmarkHandoffAdopt is the new process's share: decode the batches and
// adopt every connection (a fresh node and fresh sockets each round, not
// timed).
func BenchmarkHandoffAdopt(b *testing.B) {
	n := benchConnCount(b)
	var batches [][]byte
	var cb connBatch
	for i, c := range benchHandoffConns(n) {
		if err := cb.add(framework.Moving{ID: c.ID, State: c.State}); err != nil {
			b.Fatal(err)
		}
		if cb.n == fdBatch || i == n-1 {
			batches = append(batches, cb.payload())
			cb.reset()
		}
	}
	for b.Loop() {
		b.StopTimer()
		s := benchHandoffNode(b)
		fds := benchEventFDs(b, n)
		b.StartTimer()
		for _, p := range batches {
			conns, err := decodeConns(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := adoptConns(s.Server, conns, fds[:len(conns)]); err != nil {
				b.Fatal(fmt.Errorf("adopt: %w", err))
			}
			fds = fds[len(conns):]
		}
		b.StopTimer()
		s.Stop()
		b.StartTimer()
	}
}
