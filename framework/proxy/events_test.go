package proxy_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/framework/proxy"
	"msgo/library/cache/cachetest"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// Both stores keep the same contract.
func TestEventsStores(t *testing.T) {
	t.Run("sql", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
			if err := db.Migrate(t.Context(), gdb, proxy.Models()...); err != nil {
				t.Fatal(err)
			}
			s := proxy.NewSQLEvents(gdb)
			testEvents(t, s)
			testBeats(t, s)
		})
	})
	t.Run("redis", func(t *testing.T) {
		o := cachetest.Options(t)
		r := proxy.NewRedisEvents(proxy.RedisOptions{Addr: o.Addr, Prefix: o.Prefix})
		t.Cleanup(func() { r.Close() })
		testEvents(t, r)
	})
}

func testEvents(t *testing.T, s proxy.Events) {
	ctx := t.Context()
	client := []byte(`{"conn":"n1/1","node":"n1","ip":"","user":{"id":"u","type":"wall","code":"","nickname":""}}`)
	for i := range 10 {
		if err := s.Opened(ctx, proxy.Event{ID: fmt.Sprint("n1/b/", i), Node: "n1", Client: client, Opened: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ended(ctx, []proxy.Event{{ID: "n1/b/0", Node: "n1", Client: client, Opened: 1000, Code: 1000, Reason: "normal closure", Time: 2000}}); err != nil {
		t.Fatal(err)
	}
	// Three survivors report n1 at once: each record goes to one of them.
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 3 {
		wg.Go(func() {
			n, err := s.Lost(ctx, "n1", 3000)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 9 {
		t.Fatalf("lost %d records, want 9", total)
	}
	if n, oldest, err := s.Stats(ctx); err != nil || n != 10 || oldest != 2000 {
		t.Fatalf("stats = %d, %d, %v", n, oldest, err)
	}
	now := time.Now().UnixMilli()
	es, err := s.Lease(ctx, now, now+60000, 4)
	if err != nil || len(es) != 4 || es[0].ID != "n1/b/0" || es[0].Code != 1000 {
		t.Fatalf("lease = %+v, %v", es, err)
	}
	for _, e := range es[1:] {
		if e.Code != proxy.LostCode || e.Reason != proxy.LostReason || e.Time != 3000 || e.Opened != 1000 || string(e.Client) != string(client) {
			t.Fatalf("lost event = %+v", e)
		}
	}
	more, _ := s.Lease(ctx, now, now+60000, 100)
	if len(more) != 6 {
		t.Fatalf("second lease got %d, want the 6 not leased", len(more))
	}
	if again, _ := s.Lease(ctx, now, now+60000, 100); len(again) != 0 {
		t.Fatalf("leased events leased again: %d", len(again))
	}
	es[0].Attempts = 3
	if err := s.Retry(ctx, es[0], now-1); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Lease(ctx, now, now+60000, 100); len(again) != 1 || again[0].Attempts != 3 {
		t.Fatalf("retried event: %+v", again)
	}
	var ids []string
	for _, e := range append(es, more...) {
		ids = append(ids, e.ID)
	}
	if err := s.Delivered(ctx, ids...); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.Stats(ctx); n != 0 {
		t.Fatalf("%d events left", n)
	}
}

// A node that stops beating has its open records reported by one that beats.
func testBeats(t *testing.T, s *proxy.SQLEvents) {
	ctx := t.Context()
	if _, err := s.Beat(ctx, "n2", 10_000); err != nil {
		t.Fatal(err)
	}
	if err := s.Opened(ctx, proxy.Event{ID: "n2/b/1", Node: "n2", Client: []byte(`{}`), Opened: 10_000}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Beat(ctx, "n3", 15_000); err != nil || n != 0 {
		t.Fatalf("beat while n2 is fresh: %d, %v", n, err)
	}
	if n, err := s.Beat(ctx, "n3", 30_000); err != nil || n != 1 {
		t.Fatalf("beat after n2 went stale: %d, %v", n, err)
	}
	es, err := s.Lease(ctx, 30_000, 40_000, 10)
	if err != nil || len(es) != 1 || es[0].Code != proxy.LostCode || es[0].Time != 30_000 {
		t.Fatalf("lease = %+v, %v", es, err)
	}
}
