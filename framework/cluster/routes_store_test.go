package cluster

import (
	"context"
	"slices"
	"testing"

	"msgo/library/cache"
)

// TestRoutesOfMovedConnections: a connection accepted on a that moved to b
// keeps its close-key member when a leaves the cluster, and loses it with
// its route when b does; id spaces are never given twice.
func TestRoutesOfMovedConnections(t *testing.T) {
	ctx := context.Background()
	store := cache.NewMemory()
	a, b := NewStore(store, "a"), NewStore(store, "b")
	s1, err1 := a.IDSpace(ctx)
	s2, err2 := b.IDSpace(ctx)
	if err1 != nil || err2 != nil || s1 == s2 || s1 == 0 || s2 == 0 {
		t.Fatalf("id spaces %d (%v) and %d (%v)", s1, err1, s2, err2)
	}
	for _, m := range []string{"a:1", "a:2"} {
		if err := a.AddCloseKey(ctx, "k", m); err != nil {
			t.Fatal(err)
		}
	}
	// a:2 moves to b, which writes its close key and route.
	if err := b.AddCloseKey(ctx, "k", "a:2"); err != nil {
		t.Fatal(err)
	}
	if err := b.SetRoute(ctx, "a:2", "b"); err != nil {
		t.Fatal(err)
	}
	members := func(want ...string) {
		t.Helper()
		got, err := a.CloseKeyMembers(ctx, "k")
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("close key holds %v (%v), want %v", got, err, want)
		}
	}
	if err := a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	members("a:2")
	if at, ok, err := a.Route(ctx, "a:2"); err != nil || !ok || at != "b" {
		t.Fatalf("route of a:2: %q %v %v", at, ok, err)
	}
	if err := b.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	members()
	if _, ok, _ := a.Route(ctx, "a:2"); ok {
		t.Fatal("the route of a connection on a node that left stayed")
	}
}
