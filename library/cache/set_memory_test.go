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
