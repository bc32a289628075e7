package model_test

import (
	"math/rand/v2"
	"testing"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/app/kefu/model/modeltest"
)

// BenchmarkQueries measures the Store's queries on a chat table of 1,000,000
// rows over 10,000 users (modeltest.Seed). Seeding takes a while, so it runs
// only with MSGO_BENCH_SEED=1:
//
//	MSGO_BENCH_SEED=1 go test -run '^$' -bench Queries ./app/kefu/model
func BenchmarkQueries(b *testing.B) {
	modeltest.EachSeeded(b, func(b *testing.B, gdb *gorm.DB, s *model.Store, maxID int64) {
		benchQueries(b, gdb, s, maxID)
	})
}

func benchQueries(b *testing.B, gdb *gorm.DB, s *model.Store, maxID int64) {
	ctx := b.Context()
	rng := rand.New(rand.NewPCG(3, 4))
	openid := func() string { return modeltest.OpenID(rng.IntN(modeltest.OpenIDs)) }
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
	// An agent's console list: the same 50 with its own unread counts
	// (read marks on half of them, the rest counted from the latest reply).
	latest, err := s.Sessions(ctx, 50)
	if err != nil {
		b.Fatal(err)
	}
	for i, ses := range latest {
		if i%2 == 0 {
			if err := s.MarkReadBy(ctx, "agent", ses.OpenID, maxID-int64(rng.IntN(1000))); err != nil {
				b.Fatal(err)
			}
		}
	}
	run("AgentSessions", func() error { _, err := s.AgentSessions(ctx, "agent", model.OwnerAny, 50); return err })
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
