package cachetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"msgo/library/cache"
)

// AddrEnv names the environment variable holding the shared test Redis
// address; DefaultAddr is used when it is empty.
const (
	AddrEnv     = "MSGO_TEST_REDIS_ADDR"
	DefaultAddr = "127.0.0.1:6379"
)

// Addr returns the shared test Redis address.
func Addr() string {
	if a := os.Getenv(AddrEnv); a != "" {
		return a
	}
	return DefaultAddr
}

// Redis returns a store on the shared test Redis with a key prefix no other
// test uses. The store is closed and every key under its prefix deleted when
// the test ends.
func Redis(t testing.TB) *cache.Redis {
	t.Helper()
	return RedisNodes(t, 1)[0]
}

// RedisNodes returns n stores, each with its own connections, that share one
// fresh prefix: n cluster nodes of one application. Cleanup is as for Redis.
func RedisNodes(t testing.TB, n int) []*cache.Redis {
	t.Helper()
	opts := Options(t)
	stores := make([]*cache.Redis, n)
	for i := range stores {
		s, err := cache.NewRedis(opts)
		if err != nil {
			t.Fatalf("cachetest: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	return stores
}

// Options checks that the shared test Redis answers (skipping or failing the
// test as the package doc says) and returns options for it with a fresh
// prefix, whose keys are deleted when the test ends. Use it to build stores
// some other way, for instance through msgo's config.
func Options(t testing.TB) cache.RedisOptions {
	t.Helper()
	addr := Addr()
	raw := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, DialerRetries: 1, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := raw.Ping(ctx).Err(); err != nil {
		_ = raw.Close()
		Unavailable(t, "Redis at %s (%s) does not answer: %v", addr, AddrEnv, err)
	}
	// rand.Text is base32: no glob characters, so the prefix is a safe MATCH.
	prefix := "msgotest:" + rand.Text() + ":"
	t.Cleanup(func() {
		defer raw.Close()
		if err := deletePrefix(raw, prefix); err != nil {
			t.Errorf("cachetest: delete keys %s*: %v", prefix, err)
		}
	})
	return cache.RedisOptions{Addr: addr, Prefix: prefix}
}

func deletePrefix(c *redis.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return c.Unlink(ctx, batch...).Err()
	}
	return nil
}

// Unavailable ends a test that needs an external service it cannot reach:
// t.Fatal when the environment variable CI is set, t.Skip otherwise.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "cachetest: " + fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this fails instead of skipping)")
	}
	t.Skip(msg + " (skipped; set CI=1 to make this a failure)")
}
