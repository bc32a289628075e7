package cluster

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"msgo/library/cache"
)

// TestGroupUsersAcrossNodes counts a group's users from the cluster-wide set
// as two nodes join, leave and one of them leaves the cluster.
func TestGroupUsersAcrossNodes(t *testing.T) {
	ctx := context.Background()
	store := cache.NewMemory()
	a, b := NewStore(store, "a"), NewStore(store, "b")
	count := func(want int) {
		t.Helper()
		n, err := a.CountGroupUsers(ctx, "g")
		if err != nil || n != want {
			t.Fatalf("count %d, %v; want %d", n, err, want)
		}
	}
	if err := a.GroupJoined(ctx, "g", []string{"u1", "u2"}); err != nil {
		t.Fatal(err)
	}
	if err := b.GroupJoined(ctx, "g", []string{"u2", "u3"}); err != nil {
		t.Fatal(err)
	}
	count(3)
	if err := a.GroupLeft(ctx, "g", "u2", false); err != nil {
		t.Fatal(err)
	}
	count(3) // b still holds u2
	if err := b.GroupLeft(ctx, "g", "u2", false); err != nil {
		t.Fatal(err)
	}
	count(2)
	if err := b.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	count(1)
	users, err := a.GroupUsers(ctx, "g", 0)
	if err != nil || len(users) != 1 || users[0].Key != "u1" {
		t.Fatalf("users %v, %v", users, err)
	}
}

// TestReassertWritesEveryEntry rebuilds a node's entries from more users
// than there are lanes and close keys shared by several connections.
func TestReassertWritesEveryEntry(t *testing.T) {
	ctx := context.Background()
	store := cache.NewMemory()
	s := NewStore(store, "a")
	var l Local
	for i := range 3 * reassertLanes {
		l.Users = append(l.Users, fmt.Sprint("u", i))
	}
	l.Groups = []GroupUsers{{Name: "g", Users: l.Users[:2]}}
	l.CloseKeys = []KeyMember{{"k1", "a:1"}, {"k1", "a:2"}, {"k2", "a:3"}}
	if err := s.Reassert(ctx, l); err != nil {
		t.Fatal(err)
	}
	for _, u := range l.Users {
		if nodes, err := s.UserNodes(ctx, u); err != nil || !slices.Equal(nodes, []string{"a"}) {
			t.Fatalf("%s on %v, %v", u, nodes, err)
		}
	}
	if n, err := s.CountGroupUsers(ctx, "g"); err != nil || n != 2 {
		t.Fatalf("group count %d, %v", n, err)
	}
	for key, want := range map[string][]string{"k1": {"a:1", "a:2"}, "k2": {"a:3"}} {
		got, err := s.CloseKeyMembers(ctx, key)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s: %v, %v", key, got, err)
		}
	}
}
