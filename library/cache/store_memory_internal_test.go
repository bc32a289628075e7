package cache

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestMemorySweep checks that the sweep frees expired keys nobody reads and
// leaves keys without a TTL alone.
func TestMemorySweep(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	for i := range 100 {
		_ = m.Set(ctx, fmt.Sprint("short", i), "v", time.Millisecond)
	}
	_ = m.Set(ctx, "long", "v", time.Hour)
	_, _ = m.SAdd(ctx, "set", "a")
	time.Sleep(5 * time.Millisecond)
	m.sweep()

	var entries, volatile int
	for i := range m.shards {
		entries += len(m.shards[i].entries)
		volatile += len(m.shards[i].volatile)
	}
	if entries != 2 || volatile != 1 {
		t.Errorf("after sweep: %d entries, %d with a TTL; want 2 and 1", entries, volatile)
	}
}

// TestMemoryConcurrent hammers one Memory the way several nodes in one
// process do; run it with -race.
func TestMemoryConcurrent(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			member := fmt.Sprint("node", g)
			for i := range 500 {
				key := fmt.Sprint("group", i%7)
				_, _ = m.SAdd(ctx, key, member)
				_, _ = m.SUnionCard(ctx, "group0", key)
				_ = m.Set(ctx, member, "alive", time.Millisecond)
				_, _ = m.Incr(ctx, "seq")
				_ = m.Publish(ctx, key, []byte(member))
				if i%50 == 0 {
					sub, err := m.Subscribe(ctx, key)
					if err == nil {
						_ = sub.Close()
					}
					m.sweep()
				}
				_, _ = m.SRem(ctx, key, member)
			}
		})
	}
	wg.Wait()
	if n, _ := m.Incr(ctx, "seq"); n != 8*500+1 {
		t.Errorf("seq = %d, want %d", n, 8*500+1)
	}
}

// TestMemoryPairs checks that the two keys of a pair stay independent and
// that the sweep frees a pair once both have gone.
func TestMemoryPairs(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	if _, err := m.SAdd(ctx, "user:a", "n1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "nick:a", "Ann", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Get(ctx, "user:a"); err == nil {
		t.Error("Get of the set half: want WRONGTYPE")
	}
	if n, err := m.SCard(ctx, "nick:a"); err == nil {
		t.Errorf("SCard of the value half = %d: want WRONGTYPE", n)
	}
	time.Sleep(5 * time.Millisecond)
	sweepAll(m)
	if ms, _ := m.SMembers(ctx, "user:a"); len(ms) != 1 || ms[0] != "n1" {
		t.Errorf("user:a after nick:a expired = %v, want [n1]", ms)
	}
	if _, ok, _ := m.Get(ctx, "nick:a"); ok {
		t.Error("nick:a still there after its TTL")
	}
	_ = m.Set(ctx, "nick:a", "Ann", time.Millisecond)
	_ = m.Del(ctx, "user:a")
	if v, ok, _ := m.Get(ctx, "nick:a"); !ok || v != "Ann" {
		t.Errorf("nick:a after Del user:a = %q, %v", v, ok)
	}
	time.Sleep(5 * time.Millisecond)
	sweepAll(m)
	for i := range m.shards {
		if n := len(m.shards[i].pairs); n != 0 {
			t.Errorf("shard %d keeps %d pair records after both keys went", i, n)
		}
	}
}

// sweepAll sweeps until every shard's pairs have been visited.
func sweepAll(m *Memory) {
	for range memoryShards {
		m.sweep()
	}
}

func TestMemorySnapshotRestore(t *testing.T) {
	ctx := context.Background()
	a := NewMemory()
	defer a.Close()
	a.Set(ctx, "plain", "v", 0)
	a.Set(ctx, "ttl", "t", time.Hour)
	a.Incr(ctx, "counter")
	a.SAdd(ctx, "one", "x")
	a.SAdd(ctx, "many", "a", "b", "c")
	a.SAdd(ctx, "user:wechatUser:u1", "node-1")
	a.Set(ctx, "nick:wechatUser:u1", "Ann", 0)
	a.Set(ctx, "gone", "g", time.Millisecond)
	time.Sleep(5 * time.Millisecond)

	b := NewMemory()
	defer b.Close()
	snap, _ := a.Snapshot(nil)
	if err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"plain": "v", "ttl": "t", "counter": "1", "nick:wechatUser:u1": "Ann"} {
		if v, ok, _ := b.Get(ctx, key); !ok || v != want {
			t.Errorf("%s = %q %v, want %q", key, v, ok, want)
		}
	}
	for key, want := range map[string]int{"one": 1, "many": 3, "user:wechatUser:u1": 1} {
		if n, _ := b.SCard(ctx, key); int(n) != want {
			t.Errorf("SCard %s = %d, want %d", key, n, want)
		}
	}
	if _, ok, _ := b.Get(ctx, "gone"); ok {
		t.Error("an expired key was restored")
	}
	sh := b.shard("ttl")
	sh.mu.Lock()
	e, _ := sh.lookup("ttl", b.now())
	sh.mu.Unlock()
	if left := e.deadline - b.now(); e.deadline == 0 || left > time.Hour || left < 59*time.Minute {
		t.Errorf("ttl's TTL after the restore: %v", left)
	}
	if err := b.Restore([]byte{99}); err == nil {
		t.Error("a snapshot of an unknown version was restored")
	}
}

// TestMemorySnapshotSince: the second snapshot of a reload carries only the
// shards written to since the first, and restoring both gives the store as
// it is at the second, deletions and changes in place included.
func TestMemorySnapshotSince(t *testing.T) {
	ctx := context.Background()
	a := NewMemory()
	defer a.Close()
	for i := range 1000 {
		a.SAdd(ctx, "set"+strconv.Itoa(i), "a", "b")
		a.Set(ctx, "val"+strconv.Itoa(i), "v", time.Hour)
	}
	full, gens := a.Snapshot(nil)
	b := NewMemory()
	defer b.Close()
	if err := b.Restore(full); err != nil {
		t.Fatal(err)
	}
	if again, _ := a.Snapshot(gens); len(again) > 16 {
		t.Fatalf("nothing was written, yet the second snapshot is %d bytes", len(again))
	}
	a.SAdd(ctx, "set1", "c")      // in place
	a.SRem(ctx, "set2", "a")      // in place
	a.Del(ctx, "val3")            // gone
	a.Set(ctx, "new", "n", 0)     // new
	a.SAdd(ctx, "user:u", "node") // a pair key
	delta, _ := a.Snapshot(gens)
	if len(delta)*4 > len(full) {
		t.Fatalf("five writes made a second snapshot of %d bytes, the first was %d", len(delta), len(full))
	}
	if err := b.Restore(delta); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"set1": 3, "set2": 1, "set4": 2, "user:u": 1} {
		if n, _ := b.SCard(ctx, key); int(n) != want {
			t.Errorf("SCard %s = %d, want %d", key, n, want)
		}
	}
	if _, ok, _ := b.Get(ctx, "val3"); ok {
		t.Error("a key deleted between the snapshots was restored")
	}
	for _, key := range []string{"new", "val4", "val999"} {
		if _, ok, _ := b.Get(ctx, key); !ok {
			t.Errorf("%s missing after both snapshots", key)
		}
	}
}
