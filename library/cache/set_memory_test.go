package cache

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestMemorySetSizes crosses the slice-to-map switch both ways: members are
// added, found, counted and removed the same whatever the representation.
func TestMemorySetSizes(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	var want []string
	for i := range 3 * smallSet {
		mb := fmt.Sprintf("m%02d", i)
		want = append(want, mb)
		if n, _ := m.SAdd(ctx, "k", mb, mb); n != 1 {
			t.Fatalf("add %s: %d new", mb, n)
		}
		if n, _ := m.SCard(ctx, "k"); int(n) != i+1 {
			t.Fatalf("card after %d adds: %d", i+1, n)
		}
	}
	got, _ := m.SMembers(ctx, "k")
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("members %v", got)
	}
	for i, mb := range want {
		if in, _ := m.SIsMember(ctx, "k", mb); !in {
			t.Fatalf("%s missing", mb)
		}
		if n, _ := m.SRem(ctx, "k", mb, mb); n != 1 {
			t.Fatalf("remove %s: %d", mb, n)
		}
		if n, _ := m.SCard(ctx, "k"); int(n) != len(want)-i-1 {
			t.Fatalf("card after removing %s: %d", mb, n)
		}
	}
	if vals, _ := m.MGet(ctx, "k"); vals[0].OK {
		t.Fatal("an emptied set still exists")
	}
}

// TestMemoryLoneMember covers the one-member form: it becomes a slice at a
// second member, and removing its member (once, with others named alongside)
// deletes the key.
func TestMemoryLoneMember(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	if n, _ := m.SAdd(ctx, "k", "a", "a"); n != 1 {
		t.Fatalf("add a: %d new", n)
	}
	if in, _ := m.SIsMember(ctx, "k", "b"); in {
		t.Fatal("b is a member")
	}
	if n, _ := m.SRem(ctx, "k", "b"); n != 0 {
		t.Fatalf("remove b: %d", n)
	}
	if _, _, err := m.Get(ctx, "k"); err == nil {
		t.Fatal("Get on a set: no WRONGTYPE")
	}
	if n, _ := m.SRem(ctx, "k", "b", "a", "a"); n != 1 {
		t.Fatalf("remove a: %d", n)
	}
	if n, _ := m.SCard(ctx, "k"); n != 0 {
		t.Fatalf("card %d after removing the lone member", n)
	}
	if _, ok, err := m.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("the emptied set's key is still there (%v, %v)", ok, err)
	}
	m.SAdd(ctx, "k", "a")
	if n, _ := m.SAdd(ctx, "k", "b"); n != 1 {
		t.Fatalf("add b: %d new", n)
	}
	got, _ := m.SMembers(ctx, "k")
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("members %v", got)
	}
}
