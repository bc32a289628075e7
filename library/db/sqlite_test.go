package db

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSQLitePool measures parallel single-row inserts and a 4:1
// read/write mix with different pool sizes, the figures behind openSQLite's
// one-connection pool.
func BenchmarkSQLitePool(b *testing.B) {
	type row struct {
		ID   int64  `gorm:"primaryKey"`
		Room string `gorm:"type:varchar(64);index"`
		Body string
	}
	for _, conns := range []int{1, 4, 16} {
		for _, mix := range []string{"write", "read4write1"} {
			b.Run(fmt.Sprintf("conns=%d/%s", conns, mix), func(b *testing.B) {
				gdb, err := Open(b.Context(), Options{Driver: DriverSQLite, DSN: filepath.Join(b.TempDir(), "b.db"), Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				defer Close(gdb)
				sqlDB, _ := gdb.DB()
				sqlDB.SetMaxOpenConns(conns)
				sqlDB.SetMaxIdleConns(conns)
				if err := Migrate(b.Context(), gdb, &row{}); err != nil {
					b.Fatal(err)
				}
				var n, errs, worst atomic.Int64
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						start := time.Now()
						var err error
						if mix == "read4write1" && i%5 != 0 {
							var rows []row
							err = gdb.Where("room = ?", "r").Order("id desc").Limit(20).Find(&rows).Error
						} else {
							err = gdb.Create(&row{Room: "r", Body: "hello"}).Error
						}
						if err != nil {
							errs.Add(1)
						}
						if d := int64(time.Since(start)); d > worst.Load() {
							worst.Store(d) // racy max, good enough for a figure
						}
					}
				})
				b.ReportMetric(float64(errs.Load()), "errors")
				b.ReportMetric(float64(worst.Load())/1e6, "max-ms")
			})
		}
	}
}
