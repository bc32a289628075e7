package model_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/library/db/dbtest"
)

// Seeded data set: benchRows messages spread uniformly over benchOpenIDs
// users, all read except the latest 1 to 5 user messages of every tenth
// user (1,000 users waiting for an answer).
const (
	benchRows    = 1_000_000
	benchOpenIDs = 10_000
	seedBatch    = 5_000 // rows per INSERT: 6 placeholders each, under both drivers' limits
)

// BenchmarkQueries measures the Store's queries on a chat table of 1,000,000
// rows. Seeding takes a while, so it runs only with MSGO_BENCH_SEED=1:
//
//	MSGO_BENCH_SEED=1 go test -run '^$' -bench Queries ./app/kefu/model
func BenchmarkQueries(b *testing.B) {
	if os.Getenv("MSGO_BENCH_SEED") != "1" {
		b.Skip("seeds 1,000,000 rows; set MSGO_BENCH_SEED=1 to run")
	}
	for _, d := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"mysql", dbtest.MySQL}, {"sqlite", dbtest.SQLite}} {
		b.Run(d.name, func(b *testing.B) {
			gdb := d.open(b)
			s := newStore(b, gdb)
			maxID := seed(b, gdb, s)
			benchQueries(b, gdb, s, maxID)
		})
	}
}

func benchQueries(b *testing.B, gdb *gorm.DB, s *model.Store, maxID int64) {
	ctx := b.Context()
	rng := rand.New(rand.NewPCG(3, 4))
	openid := func() string { return benchOpenID(rng.IntN(benchOpenIDs)) }
	run := func(name string, query func() error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := query(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("History", func() error { _, err := s.History(ctx, openid(), 0, 20); return err })
	run("HistoryPage", func() error { _, err := s.History(ctx, openid(), 1+rng.Int64N(maxID), 20); return err })
	run("Unread", func() error { _, err := s.Unread(ctx, openid(), model.TypeUserToAgent); return err })
	run("MarkRead", func() error { _, err := s.MarkRead(ctx, openid(), model.TypeAgentToUser, maxID); return err })
	run("UnreadSessions", func() error { _, err := s.UnreadSessions(ctx); return err })
	run("Sessions", func() error { _, err := s.Sessions(ctx, 50); return err })
	// What Sessions would cost without chat_session: the latest message
	// id per openid, from chat alone.
	run("SessionsGroupBy", func() error {
		var rows []struct {
			OpenID string `gorm:"column:openid"`
			LastID int64  `gorm:"column:last_id"`
		}
		return gdb.WithContext(ctx).Model(&model.Message{}).Select("openid, MAX(id) AS last_id").
			Group("openid").Order("last_id DESC").Limit(50).Scan(&rows).Error
	})
	run("Insert", func() error {
		return s.Insert(ctx, &model.Message{OpenID: openid(), Type: model.TypeUserToAgent, Msg: "你好 hello 😀"})
	})
}

func benchOpenID(i int) string { return fmt.Sprintf("oBench%022d", i) } // 28 chars, like a WeChat openid

// seed fills chat and chat_session and returns the largest message id.
func seed(b *testing.B, gdb *gorm.DB, s *model.Store) int64 {
	start := time.Now()
	workers := 4
	if gdb.Dialector.Name() == "sqlite" {
		workers = 1 // one writer anyway
	}
	batches := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			rows := make([]model.Message, seedBatch)
			for first := range batches {
				rng := rand.New(rand.NewPCG(1, uint64(first)))
				for i := range rows {
					n := first + i
					rows[i] = model.Message{
						OpenID: benchOpenID(rng.IntN(benchOpenIDs)),
						Msg:    fmt.Sprintf("第%d条消息 message number %d", n, n),
						Type:   1 + rng.IntN(2),
						IsRead: 1,
						Time:   1_700_000_000_000 + int64(n)*1000,
					}
				}
				if err := gdb.Create(&rows).Error; err != nil {
					b.Error(err)
				}
			}
		})
	}
	for first := 0; first < benchRows; first += seedBatch {
		batches <- first
	}
	close(batches)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	inserted := time.Since(start)

	for i := 0; i < benchOpenIDs; i += 10 {
		var latest []int64
		err := gdb.Model(&model.Message{}).Where("openid = ? AND type = ?", benchOpenID(i), model.TypeUserToAgent).
			Order("id DESC").Limit(1+i%5).Pluck("id", &latest).Error
		if err == nil && len(latest) > 0 {
			err = gdb.Model(&model.Message{}).Where("id IN ?", latest).Update("isread", 0).Error
		}
		if err != nil {
			b.Fatal(err)
		}
	}

	syncStart := time.Now()
	if _, err := s.SyncSessions(b.Context()); err != nil {
		b.Fatal(err)
	}
	var maxID int64
	if err := gdb.Model(&model.Message{}).Select("MAX(id)").Scan(&maxID).Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d rows in %v; SyncSessions over them took %v", benchRows, inserted.Round(time.Millisecond), time.Since(syncStart).Round(time.Millisecond))
	return maxID
}
