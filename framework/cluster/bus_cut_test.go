package cluster

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"msgo/library/cache"
)

// TestBusCutOverIsExact: two buses of one node on one broker stand for the
// old and the new process of a reload, a third node pushes to the node's
// own channel and to every node without a pause; the old one cuts, the new
// one releases: every push is applied exactly once, each process's in
// publish order.
func TestBusCutOverIsExact(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mem := cache.NewMemory()
	log := slog.New(slog.DiscardHandler)
	type applied struct {
		mu   sync.Mutex
		seqs []int
	}
	bus := func(node string, to *applied) *Bus {
		return NewBus(NewStore(mem, node), node, func(_ Op, _ string, frame []byte, _ uint64) int {
			n, _ := strconv.Atoi(string(frame))
			to.mu.Lock()
			to.seqs = append(to.seqs, n)
			to.mu.Unlock()
			return 1
		}, log, func() {})
	}
	run := func(b *Bus) {
		go b.Run(ctx)
		<-b.Live()
	}
	var byOld, byNew applied
	old, other := bus("n", &byOld), bus("o", &applied{})
	run(old)
	run(other)

	const pushes = 1000
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range pushes {
			op := OpGroup
			if i%3 == 0 {
				op = OpAll // on bus:all; the others on bus:n
			}
			if _, err := other.Send(ctx, op, "g", 0, []byte(strconv.Itoa(i)), []string{"n"}, false); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
			if i%5 == 0 { // paced: the memory broker drops what a full subscriber cannot take
				time.Sleep(time.Millisecond)
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	fresh := bus("n", &byNew)
	fresh.Hold()
	run(fresh)
	time.Sleep(20 * time.Millisecond) // the old process pauses meanwhile: the new one holds pushes from before the cut
	cutCtx, done := context.WithTimeout(ctx, 5*time.Second)
	defer done()
	nonce, err := old.Cut(cutCtx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Await(cutCtx, nonce); err != nil {
		t.Fatal(err)
	}
	fresh.Release(ctx, nonce)
	<-sent

	deadline := time.Now().Add(10 * time.Second)
	for {
		byOld.mu.Lock()
		byNew.mu.Lock()
		total := len(byOld.seqs) + len(byNew.seqs)
		byNew.mu.Unlock()
		byOld.mu.Unlock()
		if total >= pushes || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a push applied twice would be here by now
	if n := mem.Dropped(); n > 0 {
		t.Fatalf("the memory broker dropped %d messages: the machine is too slow for this pace", n)
	}
	seen := make(map[int]int)
	for who, a := range map[string]*applied{"old": &byOld, "new": &byNew} {
		a.mu.Lock()
		last := map[bool]int{true: -1, false: -1} // per channel: bus:all or not
		for _, n := range a.seqs {
			seen[n]++
			ch := n%3 == 0
			if n < last[ch] {
				t.Fatalf("%s applied %d after %d on one channel", who, n, last[ch])
			}
			last[ch] = n
		}
		a.mu.Unlock()
	}
	for i := range pushes {
		if seen[i] != 1 {
			t.Fatalf("push %d applied %d times (old %d, new %d in all)", i, seen[i], len(byOld.seqs), len(byNew.seqs))
		}
	}
	if len(byOld.seqs) == 0 || len(byNew.seqs) == 0 {
		t.Fatalf("the cut fell outside the pushes: old %d, new %d", len(byOld.seqs), len(byNew.seqs))
	}
	t.Logf("old applied %d, new %d", len(byOld.seqs), len(byNew.seqs))
}
