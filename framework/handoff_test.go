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
	a, b, pa, pb := sameNode(t)
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

// sameNode starts two nodes with the probe module, the same node id and one
// memory store: the processes before and after a reload.
func sameNode(t *testing.T) (a, b *msgotest.Server, pa, pb *probe) {
	store := cache.NewMemory()
	t.Cleanup(func() { store.Close() })
	pa, pb = &probe{}, &probe{}
	opts := func(p *probe) msgotest.Options {
		return msgotest.Options{Modules: []msgotest.Module{p.register}, Store: store, NodeID: "n1", Secret: "shared-secret"}
	}
	return msgotest.Start(t, opts(pa)), msgotest.Start(t, opts(pb)), pa, pb
}

func mustPush(t *testing.T, event string) *framework.Frame {
	f, err := framework.Push(event, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestStageRefreshDiscard adopts connections in two passes, as a reload
// does: staged while the first node still serves, then, once it froze,
// refreshed, and discarded if they closed in between. A connection that
// joined a group in between is in it on the second node; one that closed in
// between is gone there and its close controller ran once, on the first;
// a request sent while both nodes are frozen is answered by the second
// after its thaw.
func TestStageRefreshDiscard(t *testing.T) {
	a, b, pa, pb := sameNode(t)
	stays, joins, leaves := a.Dial(t, user("stays")), a.Dial(t, user("joins")), a.Dial(t, user("leaves"))
	var gone struct{ Conn framework.ConnID }
	leaves.Request(t, "test.hooks.track", nil).Decode(t, &gone)
	stays.Request(t, "test.echo.echo", nil)
	joins.Request(t, "test.echo.echo", nil)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	staged := map[framework.ConnID]bool{}
	for m := range a.Stage() {
		if err := b.Adopt(m.ID, m.FD, m.State); err != nil {
			t.Fatal(err)
		}
		staged[m.ID] = true
	}
	if len(staged) != 3 {
		t.Fatalf("%d connections staged, want 3", len(staged))
	}
	// The first node serves on meanwhile.
	var joined struct{ Conn framework.ConnID }
	joins.Request(t, "test.hooks.track", nil).Decode(t, &joined)
	leaves.Close()
	eventually(t, "the first node closed the leaver", func() bool { return pa.count(gone.Conn) == 1 })

	if err := a.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	for m := range a.Export() {
		if err := b.Refresh(m.ID, m.State); err != nil {
			t.Fatal(err)
		}
		delete(staged, m.ID)
	}
	if len(staged) != 1 || !staged[gone.Conn] {
		t.Fatalf("left unrefreshed: %v, want only the leaver %d", staged, gone.Conn)
	}
	b.Discard(gone.Conn)
	id := stays.Call(t, "test.echo.echo", map[string]any{"while": "frozen"})
	time.Sleep(50 * time.Millisecond) // in the socket before the thaw
	b.Thaw()
	if r := stays.AwaitID(t, id); r.Status != 200 {
		t.Fatalf("the request sent while frozen: %+v", r)
	}
	if !b.App().InGroup(joined.Conn, probeGroup) {
		t.Fatal("the group joined between the passes is not on the second node")
	}
	if n := b.Connections(); n != 2 {
		t.Fatalf("the second node holds %d connections, want 2", n)
	}
	time.Sleep(100 * time.Millisecond)
	if n, m := pa.count(gone.Conn), pb.count(gone.Conn); n != 1 || m != 0 {
		t.Fatalf("the leaver's close controller ran %d times on the first node, %d on the second", n, m)
	}
}
