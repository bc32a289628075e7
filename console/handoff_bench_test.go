package main

import (
	"context"
	"os"
	"strconv"
	"syscall"
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
	cpu := cpuTime()
	for b.Loop() {
		size = 0
		ex, err := exportConns(s.Server.Export(), nil, func(p []byte, _ []int) error { size += len(p); return nil })
		if err != nil || ex.conns != n {
			b.Fatalf("%d of %d exported: %v", ex.conns, n, err)
		}
	}
	reportCPU(b, cpuTime()-cpu)
	b.ReportMetric(float64(size), "state_bytes")
	s.Stop()
}

// benchBatches encodes n connections in batches, staged or not.
func benchBatches(b *testing.B, n int, staged bool) [][]byte {
	var batches [][]byte
	var cb connBatch
	for i, c := range benchHandoffConns(n) {
		if err := cb.add(framework.Moving{ID: c.ID, State: c.State}, staged); err != nil {
			b.Fatal(err)
		}
		if cb.n == fdBatch || i == n-1 {
			batches = append(batches, cb.payload())
			cb.reset()
		}
	}
	return batches
}

// BenchmarkHandoffAdopt is the new process's share before the pause:
// decode the batches and adopt every connection (a fresh node and fresh
// sockets each round, not timed).
func BenchmarkHandoffAdopt(b *testing.B) {
	n := benchConnCount(b)
	batches := benchBatches(b, n, false)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		s := benchHandoffNode(b)
		fds := benchEventFDs(b, n)
		b.StartTimer()
		t := cpuTime()
		a := newAdopter(s.Server)
		for i, p := range batches {
			a.add(p, fds[i*fdBatch:min(n, (i+1)*fdBatch)])
		}
		if took, err := a.wait(); err != nil || took != n {
			b.Fatalf("adopted %d of %d: %v", took, n, err)
		}
		b.StopTimer()
		cpu += cpuTime() - t
		s.Stop()
		b.StartTimer()
	}
	reportCPU(b, cpu)
}

// BenchmarkHandoffRefresh is the new process's share of the pause: decode
// the batches and bring every connection adopted before it up to date.
func BenchmarkHandoffRefresh(b *testing.B) {
	n := benchConnCount(b)
	s := benchHandoffNode(b)
	if err := adoptConns(s.Server, benchHandoffConns(n), benchEventFDs(b, n)); err != nil {
		b.Fatal(err)
	}
	batches := benchBatches(b, n, true)
	cpu := cpuTime()
	for b.Loop() {
		a := newAdopter(s.Server)
		for _, p := range batches {
			a.add(p, nil)
		}
		if took, err := a.wait(); err != nil || took != n {
			b.Fatalf("refreshed %d of %d: %v", took, n, err)
		}
	}
	reportCPU(b, cpuTime()-cpu)
	s.Stop()
}

// BenchmarkPassSocketsOverSocketPair passes n descriptors as a reload does,
// fdBatch per message over a unix socket pair; the receiver closes each
// batch (as the old process's exit closes its copies).
func BenchmarkPassSocketsOverSocketPair(b *testing.B) {
	n := benchConnCount(b)
	fds := benchEventFDs(b, n)
	defer closeAll(fds)
	mine, theirs, err := socketPair()
	if err != nil {
		b.Fatal(err)
	}
	tx, err := newPipe(mine)
	mine.Close()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	rx, err := newPipe(theirs)
	theirs.Close()
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	for b.Loop() {
		done := make(chan error, 1)
		go func() {
			got := 0
			for got < n {
				_, _, fds, err := rx.recv()
				closeAll(fds)
				if err != nil {
					done <- err
					return
				}
				got += len(fds)
			}
			done <- nil
		}()
		for rest := fds; len(rest) > 0; rest = rest[min(len(rest), fdBatch):] {
			if err := tx.sendConns(frameConns, nil, rest[:min(len(rest), fdBatch)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPassSocketsInherited passes n descriptors the other way: a
// process started with them at fds 3 and up (it is /bin/true: the figure is
// fork, the descriptor table, exec and exit, the same with zero descriptors
// as BenchmarkPassSocketsInherited/0).
func BenchmarkPassSocketsInherited(b *testing.B) {
	for _, n := range []int{0, benchConnCount(b)} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			fds := benchEventFDs(b, n)
			defer closeAll(fds)
			files := []uintptr{0, 1, 2}
			for _, fd := range fds {
				files = append(files, uintptr(fd))
			}
			for b.Loop() {
				pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{Files: files})
				if err != nil {
					b.Fatal(err)
				}
				var ws syscall.WaitStatus
				if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
					b.Fatalf("wait: %v, %v", err, ws)
				}
			}
		})
	}
}

// cpuTime is the process's user and system time so far: a figure the
// machine's load stretches far less than the wall clock's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, d time.Duration) {
	b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
