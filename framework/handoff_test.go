package framework_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
)

// TestFreezeExportAdopt moves a connection as a reload does, between two
// nodes of one process with the same node id and store: frozen on the
// first, exported, its socket duplicated and adopted by the second under
// the same id. A push sent while frozen leaves with it, the second node
// answers it, its group and close controller came along, and when the
// client leaves the controller runs once, on the second node.
func TestFreezeExportAdopt(t *testing.T) {
	store := cache.NewMemory()
	defer store.Close()
	pa, pb := &probe{}, &probe{}
	opts := func(p *probe) msgotest.Options {
		return msgotest.Options{Modules: []msgotest.Module{p.register}, Store: store, NodeID: "n1", Secret: "shared-secret"}
	}
	a := msgotest.Start(t, opts(pa))
	b := msgotest.Start(t, opts(pb))
	cl := a.Dial(t, user("mover"))
	var tracked struct{ Conn framework.ConnID }
	cl.Request(t, "test.hooks.track", nil).Decode(t, &tracked)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.App().SendToGroup(ctx, probeGroup, mustPush(t, "test.while.frozen")); err != nil {
		t.Fatal(err)
	}
	moving := slices.Collect(a.Export())
	if len(moving) != 1 || moving[0].ID != tracked.Conn || len(moving[0].State.Transport.Output) == 0 {
		t.Fatalf("exported %+v, want connection %d with the frozen push queued", moving, tracked.Conn)
	}
	fd, err := unix.Dup(moving[0].FD)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Adopt(moving[0].ID, fd, moving[0].State); err != nil {
		t.Fatal(err)
	}
	b.Thaw()
	// The first node keeps its copy, frozen, until its stop closes it: a
	// close without shutdown, as the old process's exit.
	cl.AwaitPush(t, "test.while.frozen")

	var again struct{ Conn framework.ConnID }
	cl.Request(t, "test.hooks.track", nil).Decode(t, &again)
	if again.Conn != tracked.Conn {
		t.Fatalf("connection id %d after the move, want %d", again.Conn, tracked.Conn)
	}
	if !b.App().InGroup(tracked.Conn, probeGroup) {
		t.Fatal("the group did not come along")
	}
	cl.Close()
	eventually(t, "the close controller ran on the second node", func() bool { return pb.count(tracked.Conn) == 1 })
	time.Sleep(100 * time.Millisecond)
	if n, m := pb.count(tracked.Conn), pa.count(tracked.Conn); n != 1 || m != 0 {
		t.Fatalf("close controller ran %d times on the second node, %d on the first", n, m)
	}
}

func mustPush(t *testing.T, event string) *framework.Frame {
	f, err := framework.Push(event, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	return f
}
