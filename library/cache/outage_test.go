package cache_test

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"msgo/library/cache"
	"msgo/library/cache/cachetest"
)

// fastFail is how long a call may take to report a dead Redis.
const fastFail = time.Second

// TestRedisOutage kills a private redis-server under a working store and an
// open Subscription, checks that calls fail fast with ErrUnavailable, then
// restarts it on the same port and checks that both recover by themselves.
func TestRedisOutage(t *testing.T) {
	srv := cachetest.StartRedis(t)
	ctx := t.Context()
	r, err := cache.NewRedis(cache.RedisOptions{Addr: srv.Addr(), Prefix: "outage:"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sub := must(r.Subscribe(ctx, "bus"))(t)
	defer sub.Close()
	noErr(t, r.Publish(ctx, "bus", []byte("before")))
	eqMsg(t, receive(t, sub), "bus", "before")
	must(r.SAdd(ctx, "set", "a"))(t)

	srv.Stop()
	down := time.Now()
	for what, call := range map[string]func() error{
		"Ping":      func() error { return r.Ping(ctx) },
		"SAdd":      func() error { return second(r.SAdd(ctx, "set", "b")) },
		"Get":       func() error { return third(r.Get(ctx, "k")) },
		"Incr":      func() error { return second(r.Incr(ctx, "seq")) },
		"Publish":   func() error { return r.Publish(ctx, "bus", []byte("lost")) },
		"Subscribe": func() error { return second(r.Subscribe(ctx, "other")) },
	} {
		start := time.Now()
		err := call()
		took := time.Since(start)
		t.Logf("down: %s took %v: %v", what, took, err)
		if !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s while Redis is down = %v, want ErrUnavailable", what, err)
		}
		if took > fastFail {
			t.Errorf("%s while Redis is down took %v, want under %v", what, took, fastFail)
		}
	}

	// A node may start while Redis is down.
	late, err := cache.NewRedis(cache.RedisOptions{Addr: srv.Addr(), Prefix: "outage:"})
	if err != nil {
		t.Fatalf("NewRedis while Redis is down: %v", err)
	}
	defer late.Close()
	if err := late.Ping(ctx); !errors.Is(err, cache.ErrUnavailable) {
		t.Errorf("Ping on a store made while Redis is down = %v, want ErrUnavailable", err)
	}

	// Enough failed dials to trip go-redis's dial breaker (one per pool slot),
	// after which it fails fast and probes about once a second: recovery must
	// survive that too.
	for i := range 100 {
		start := time.Now()
		if err := r.Ping(ctx); !errors.Is(err, cache.ErrUnavailable) || time.Since(start) > fastFail {
			t.Fatalf("Ping %d while down = %v after %v", i, err, time.Since(start))
		}
	}
	time.Sleep(time.Second) // let the subscription's reconnect loop spin while down
	srv.Start()
	up := time.Now()
	t.Logf("redis was down for %v", up.Sub(down))

	for name, s := range map[string]cache.Store{"store": r, "late store": late} {
		eventuallyWithin(t, 10*time.Second, name+" answers again", func() bool { return s.Ping(ctx) == nil })
		t.Logf("%s answers %v after restart", name, time.Since(up))
	}
	// The restarted server kept nothing: the set starts over.
	eq(t, "SAdd after restart", must(r.SAdd(ctx, "set", "b"))(t), 1)
	eq(t, "late Incr after restart", must(late.Incr(ctx, "seq"))(t), 1)

	// The old Subscription resubscribes by itself; publish until it hears.
	var n int
	eventuallyWithin(t, 10*time.Second, "subscription receives after restart", func() bool {
		n++
		noErr(t, late.Publish(ctx, "bus", []byte("after-"+strconv.Itoa(n))))
		select {
		case m := <-sub.Messages():
			return strings.HasPrefix(string(m.Payload), "after-")
		case <-time.After(50 * time.Millisecond):
			return false
		}
	})
	t.Logf("subscription receives %v after restart (%d publishes)", time.Since(up), n)
}

// TestRedisUnresponsive points a store at a server that accepts connections
// and never answers: calls must time out into ErrUnavailable, not hang.
func TestRedisUnresponsive(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	r, err := cache.NewRedis(cache.RedisOptions{Addr: l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	start := time.Now()
	err = r.Set(t.Context(), "k", "v", 0)
	took := time.Since(start)
	t.Logf("unresponsive: Set took %v: %v", took, err)
	if !errors.Is(err, cache.ErrUnavailable) {
		t.Errorf("Set = %v, want ErrUnavailable", err)
	}
	if took > 2*time.Second {
		t.Errorf("Set took %v, want about 2 × ReadTimeout", took)
	}
}

// eventuallyWithin polls cond every 10 ms until it holds or d has passed.
func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after %v", what, d)
		}
	}
}
