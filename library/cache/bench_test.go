package cache_test

import (
	"strconv"
	"testing"

	"msgo/library/cache"
	"msgo/library/cache/cachetest"
)

func BenchmarkMemorySAdd(b *testing.B) {
	m := cache.NewMemory()
	defer m.Close()
	benchSAdd(b, m)
}

func BenchmarkRedisSAdd(b *testing.B) {
	benchSAdd(b, cachetest.Redis(b))
}

// benchSAdd adds members to a room-sized set, as a join does.
func benchSAdd(b *testing.B, s cache.Store) {
	members := make([]string, 1024)
	for i := range members {
		members[i] = strconv.Itoa(i)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.SAdd(ctx, "bench:room", members[i%len(members)]); err != nil {
			b.Fatal(err)
		}
	}
}
