package modeltest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// The data set of the published figures: a million messages spread
// uniformly over 10,000 users.
const (
	Rows    = 1_000_000
	OpenIDs = 10_000
)

const seedBatch = 5_000 // rows per INSERT: 6 placeholders each, under both drivers' limits

// EachSeeded runs fn as the sub-benchmarks "mysql" and "sqlite", each on a
// fresh database migrated with model.Models() and seeded with Rows
// messages over OpenIDs users; maxID is the largest message id. Seeding
// takes a while, so it skips unless MSGO_BENCH_SEED=1.
func EachSeeded(b *testing.B, fn func(b *testing.B, gdb *gorm.DB, s *model.Store, maxID int64)) {
	if os.Getenv("MSGO_BENCH_SEED") != "1" {
		b.Skip("seeds 1,000,000 rows; set MSGO_BENCH_SEED=1 to run")
	}
	for _, d := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"mysql", dbtest.MySQL}, {"sqlite", dbtest.SQLite}} {
		b.Run(d.name, func(b *testing.B) {
			gdb := d.open(b)
			if err := db.Migrate(b.Context(), gdb, model.Models()...); err != nil {
				b.Fatal(err)
			}
			s := model.NewStore(gdb)
			fn(b, gdb, s, Seed(b, gdb, s, Rows, OpenIDs))
		})
	}
}

// OpenID names the i-th seeded user: 28 characters, like a WeChat openid.
func OpenID(i int) string { return fmt.Sprintf("oBench%022d", i) }

// Seed fills chat with rows messages over openids users, all read except
// the latest 1 to 5 user messages of every tenth user (users waiting for an
// answer), brings chat_session up to date with s.SyncSessions, and returns
// the largest message id. It logs how long the inserts and the sync took.
func Seed(tb testing.TB, gdb *gorm.DB, s *model.Store, rows, openids int) int64 {
	tb.Helper()
	start := time.Now()
	workers := 4
	if gdb.Dialector.Name() == "sqlite" {
		workers = 1 // one writer anyway
	}
	batches := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			batch := make([]model.Message, seedBatch)
			for first := range batches {
				rng := rand.New(rand.NewPCG(1, uint64(first)))
				n := min(seedBatch, rows-first)
				for i := range batch[:n] {
					k := first + i
					batch[i] = model.Message{
						OpenID: OpenID(rng.IntN(openids)),
						Msg:    fmt.Sprintf("第%d条消息 message number %d", k, k),
						Type:   1 + rng.IntN(2),
						IsRead: 1,
						Time:   1_700_000_000_000 + int64(k)*1000,
					}
				}
				if err := gdb.Create(batch[:n]).Error; err != nil {
					tb.Error(err)
				}
			}
		})
	}
	for first := 0; first < rows; first += seedBatch {
		batches <- first
	}
	close(batches)
	wg.Wait()
	if tb.Failed() {
		tb.FailNow()
	}
	inserted := time.Since(start)

	for i := 0; i < openids; i += 10 {
		var latest []int64
		err := gdb.Model(&model.Message{}).Where("openid = ? AND type = ?", OpenID(i), model.TypeUserToAgent).
			Order("id DESC").Limit(1+i%5).Pluck("id", &latest).Error
		if err == nil && len(latest) > 0 {
			err = gdb.Model(&model.Message{}).Where("id IN ?", latest).Update("isread", 0).Error
		}
		if err != nil {
			tb.Fatal(err)
		}
	}

	syncStart := time.Now()
	if _, err := s.SyncSessions(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	var maxID int64
	if err := gdb.Model(&model.Message{}).Select("MAX(id)").Scan(&maxID).Error; err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d rows in %v; SyncSessions over them took %v", rows, inserted.Round(time.Millisecond), time.Since(syncStart).Round(time.Millisecond))
	return maxID
}
