package model_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"msgo/app/live/model"
	"msgo/library/db/dbtest"
)

// benchSenders is how many goroutines send at once: many connections of one
// busy room.
const benchSenders = 64

// eachDB runs bench on a fresh SQLite and a fresh MySQL database.
func eachDB(b *testing.B, bench func(b *testing.B, s *model.Store)) {
	for name, open := range map[string]func(testing.TB) *gorm.DB{"sqlite": dbtest.SQLite, "mysql": dbtest.MySQL} {
		b.Run(name, func(b *testing.B) { bench(b, newStore(b, open(b))) })
	}
}

// sendParallel calls send from benchSenders goroutines with consecutive seqs.
func sendParallel(b *testing.B, send func(m model.Message) error) {
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(1, benchSenders/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := send(msg("bench", seq.Add(1), "a message of ordinary length 😀")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkWriter: parallel senders through the group-commit Writer.
func BenchmarkWriter(b *testing.B) {
	eachDB(b, func(b *testing.B, s *model.Store) {
		w := model.NewWriter(s, 0, 0)
		defer w.Close()
		sendParallel(b, func(m model.Message) error { return w.Write(context.Background(), m) })
	})
}

// BenchmarkInsertEach: the same senders with one INSERT per message, the
// baseline the Writer is measured against.
func BenchmarkInsertEach(b *testing.B) {
	eachDB(b, func(b *testing.B, s *model.Store) {
		sendParallel(b, func(m model.Message) error { return s.Insert(context.Background(), m) })
	})
}
