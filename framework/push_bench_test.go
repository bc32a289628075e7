package framework

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkGroupPush10k pushes one frame to a group of 10,000 connections:
// one encode, one queueing per member, and the flushers' writes, waited for. The members' fds are /dev/null, so
// this measures msgo's own cost per delivery (the group walk, the write
// path, the syscall) without the kernel's TCP work, which a loopback write
// adds on top (see msgo bench fanout).
//
//	go test -run=^$ -bench=GroupPush10k -benchmem ./framework/
func BenchmarkGroupPush10k(b *testing.B) {
	const members = 10000
	s := socketlessServer(b, NewRouter(), Config{})
	cs := make([]*conn, members)
	for i := range members {
		fd, err := unix.Open(os.DevNull, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		c := &conn{id: ConnID(s.nextID.Add(1)), fd: int32(fd), srv: s, ident: compact(Identity{ID: fmt.Sprint(i), Type: TypeWall})}
		s.inflight.Add(1) // as open does; Stop releases and closes them
		s.hub.add(c)
		s.hub.join("room", c)
		cs[i] = c
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		f, err := Push("live.message", map[string]any{"seq": 1, "content": "hello"})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.app.SendToGroup(ctx, Room("room"), f); err != nil {
			b.Fatal(err)
		}
		for _, c := range cs {
			for !c.flushed() {
				runtime.Gosched()
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*members), "ns/delivery")
}

// flushed reports whether c's queue is empty.
func (c *conn) flushed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out == nil || len(c.out.wq) == 0
}
