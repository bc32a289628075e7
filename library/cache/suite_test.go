package cache_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"msgo/library/cache"
	"msgo/library/cache/cachetest"
)

func TestMemory(t *testing.T) {
	testStore(t, func(t *testing.T) cache.Store {
		m := cache.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		return m
	})
}

func TestRedis(t *testing.T) {
	testStore(t, func(t *testing.T) cache.Store { return cachetest.Redis(t) })
}

// testStore checks the Store contract. Every subtest gets its own store from
// newStore and runs in parallel, so TTL waits overlap.
func testStore(t *testing.T, newStore func(t *testing.T) cache.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s cache.Store)
	}{
		{"Sets", testSets},
		{"Union", testUnion},
		{"Values", testValues},
		{"TTL", testTTL},
		{"Incr", testIncr},
		{"WrongType", testWrongType},
		{"PubSub", testPubSub},
		{"Close", testClose},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// must takes a call's results and returns a check that fails the test on
// its error and yields its value: must(s.SCard(ctx, k))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func sameMembers(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	got = slices.Sorted(slices.Values(got))
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func testSets(t *testing.T, s cache.Store) {
	ctx := t.Context()
	eq(t, "SAdd new", must(s.SAdd(ctx, "set", "a", "b"))(t), 2)
	eq(t, "SAdd overlapping", must(s.SAdd(ctx, "set", "b", "c", "c"))(t), 1)
	eq(t, "SAdd no members", must(s.SAdd(ctx, "set"))(t), 0)
	eq(t, "SCard", must(s.SCard(ctx, "set"))(t), 3)
	sameMembers(t, "SMembers", must(s.SMembers(ctx, "set"))(t), "a", "b", "c")
	eq(t, "SIsMember a", must(s.SIsMember(ctx, "set", "a"))(t), true)
	eq(t, "SIsMember z", must(s.SIsMember(ctx, "set", "z"))(t), false)

	eq(t, "SRem present and absent", must(s.SRem(ctx, "set", "a", "z"))(t), 1)
	eq(t, "SRem no members", must(s.SRem(ctx, "set"))(t), 0)
	eq(t, "SRem rest", must(s.SRem(ctx, "set", "b", "c"))(t), 2)
	// An emptied set no longer exists: SetNX can claim its key.
	eq(t, "SetNX on emptied set", must(s.SetNX(ctx, "set", "v", 0))(t), true)

	eq(t, "SCard missing", must(s.SCard(ctx, "missing"))(t), 0)
	eq(t, "SRem missing", must(s.SRem(ctx, "missing", "a"))(t), 0)
	eq(t, "SIsMember missing", must(s.SIsMember(ctx, "missing", "a"))(t), false)
	sameMembers(t, "SMembers missing", must(s.SMembers(ctx, "missing"))(t))
}

func testUnion(t *testing.T, s cache.Store) {
	ctx := t.Context()
	must(s.SAdd(ctx, "u1", "1", "2", "3"))(t)
	must(s.SAdd(ctx, "u2", "3", "4"))(t)
	must(s.SAdd(ctx, "u3", "4", "1"))(t)

	sameMembers(t, "SUnion", must(s.SUnion(ctx, "u1", "u2", "u3", "missing"))(t), "1", "2", "3", "4")
	sameMembers(t, "SUnion one", must(s.SUnion(ctx, "u2"))(t), "3", "4")
	sameMembers(t, "SUnion none", must(s.SUnion(ctx))(t))
	sameMembers(t, "SUnion missing", must(s.SUnion(ctx, "missing"))(t))

	eq(t, "SUnionCard one", must(s.SUnionCard(ctx, "u2"))(t), 2)
	eq(t, "SUnionCard overlapping", must(s.SUnionCard(ctx, "u1", "u2", "u3", "missing"))(t), 4)
	eq(t, "SUnionCard same key twice", must(s.SUnionCard(ctx, "u1", "u1"))(t), 3)
	eq(t, "SUnionCard none", must(s.SUnionCard(ctx))(t), 0)
	eq(t, "SUnionCard missing", must(s.SUnionCard(ctx, "missing", "missing2"))(t), 0)
	// Counting must not disturb the sets.
	eq(t, "SCard after SUnionCard", must(s.SCard(ctx, "u1"))(t), 3)
}

func testValues(t *testing.T, s cache.Store) {
	ctx := t.Context()
	get := func(key string) cache.Value {
		t.Helper()
		v, ok, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return cache.Value{Value: v, OK: ok}
	}
	eq(t, "Get missing", get("k1"), cache.Value{})
	noErr(t, s.Set(ctx, "k1", "v1", 0))
	eq(t, "Get", get("k1"), cache.Value{Value: "v1", OK: true})
	noErr(t, s.Set(ctx, "k1", "v1b", 0))
	eq(t, "Get overwritten", get("k1"), cache.Value{Value: "v1b", OK: true})

	eq(t, "SetNX existing", must(s.SetNX(ctx, "k1", "other", 0))(t), false)
	eq(t, "Get after SetNX existing", get("k1"), cache.Value{Value: "v1b", OK: true})
	eq(t, "SetNX new", must(s.SetNX(ctx, "k2", "v2", 0))(t), true)
	noErr(t, s.Set(ctx, "empty", "", 0))
	eq(t, "Get empty string", get("empty"), cache.Value{Value: "", OK: true})

	vs := must(s.MGet(ctx, "k1", "missing", "k2", "empty"))(t)
	want := []cache.Value{{Value: "v1b", OK: true}, {}, {Value: "v2", OK: true}, {Value: "", OK: true}}
	if !slices.Equal(vs, want) {
		t.Errorf("MGet = %v, want %v", vs, want)
	}
	eq(t, "len(MGet())", len(must(s.MGet(ctx))(t)), 0)

	must(s.SAdd(ctx, "aset", "m"))(t)
	noErr(t, s.Del(ctx, "k1", "missing", "aset"))
	noErr(t, s.Del(ctx))
	eq(t, "Get deleted", get("k1"), cache.Value{})
	eq(t, "SCard deleted set", must(s.SCard(ctx, "aset"))(t), 0)
	eq(t, "Get kept", get("k2"), cache.Value{Value: "v2", OK: true})
}

// eventually polls cond until it holds or 3 s have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 3*time.Second, what, cond)
}

func testTTL(t *testing.T, s cache.Store) {
	ctx := t.Context()
	const ttl = 100 * time.Millisecond
	exists := func(key string) bool {
		_, ok, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	set := time.Now()
	noErr(t, s.Set(ctx, "t1", "v", ttl))
	eq(t, "present before ttl", exists("t1"), true)
	eventually(t, "Set value expires", func() bool { return !exists("t1") })
	if gone := time.Since(set); gone < ttl-10*time.Millisecond {
		t.Errorf("expired after %v, before its ttl %v", gone, ttl)
	}
	eq(t, "MGet expired", must(s.MGet(ctx, "t1"))(t)[0], cache.Value{})

	// SetNX with a TTL is the node-liveness lease: held until it lapses.
	eq(t, "SetNX lease", must(s.SetNX(ctx, "lease", "n1", ttl))(t), true)
	eq(t, "SetNX held lease", must(s.SetNX(ctx, "lease", "n2", ttl))(t), false)
	eventually(t, "lease can be taken after expiry", func() bool {
		return must(s.SetNX(ctx, "lease", "n2", ttl))(t)
	})

	// Set without a TTL clears an earlier one, as in Redis.
	noErr(t, s.Set(ctx, "t2", "v", ttl))
	noErr(t, s.Set(ctx, "t2", "v", 0))
	time.Sleep(3 * ttl)
	eq(t, "Set with ttl 0 keeps the key", exists("t2"), true)

	if err := s.Set(ctx, "t3", "v", -time.Second); err == nil {
		t.Error("Set with a negative ttl: want an error")
	}
}

func testIncr(t *testing.T, s cache.Store) {
	ctx := t.Context()
	eq(t, "Incr missing", must(s.Incr(ctx, "seq"))(t), 1)
	eq(t, "Incr again", must(s.Incr(ctx, "seq"))(t), 2)
	v, ok, err := s.Get(ctx, "seq")
	eq(t, "Get counter", cache.Value{Value: v, OK: ok}, cache.Value{Value: "2", OK: true})
	noErr(t, err)
	noErr(t, s.Set(ctx, "seq", "41", 0))
	eq(t, "Incr after Set", must(s.Incr(ctx, "seq"))(t), 42)

	noErr(t, s.Set(ctx, "word", "abc", 0))
	if _, err := s.Incr(ctx, "word"); err == nil || errors.Is(err, cache.ErrUnavailable) {
		t.Errorf("Incr on a non-integer = %v, want a plain error", err)
	}
}

func testWrongType(t *testing.T, s cache.Store) {
	ctx := t.Context()
	noErr(t, s.Set(ctx, "val", "v", 0))
	must(s.SAdd(ctx, "set", "m"))(t)
	for what, err := range map[string]error{
		"SAdd on a value":  second(s.SAdd(ctx, "val", "m")),
		"SCard on a value": second(s.SCard(ctx, "val")),
		"Get on a set":     third(s.Get(ctx, "set")),
		"Incr on a set":    second(s.Incr(ctx, "set")),
	} {
		if err == nil || errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s = %v, want a plain error", what, err)
		}
	}
	eq(t, "MGet of a set", must(s.MGet(ctx, "set"))(t)[0], cache.Value{})
	// Set replaces a key of any kind, as in Redis.
	noErr(t, s.Set(ctx, "set", "now a value", 0))
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

// receive returns the next message on sub, failing after 3 s.
func receive(t *testing.T, sub cache.Subscription) cache.Message {
	t.Helper()
	select {
	case m, ok := <-sub.Messages():
		if !ok {
			t.Fatal("subscription closed, want a message")
		}
		return m
	case <-time.After(3 * time.Second):
		t.Fatal("no message within 3s")
	}
	panic("unreachable")
}

// quiet fails if sub delivers a message within d.
func quiet(t *testing.T, sub cache.Subscription, d time.Duration) {
	t.Helper()
	select {
	case m := <-sub.Messages():
		t.Errorf("unexpected message %s %q", m.Channel, m.Payload)
	case <-time.After(d):
	}
}

func eqMsg(t *testing.T, got cache.Message, channel, payload string) {
	t.Helper()
	if got.Channel != channel || string(got.Payload) != payload {
		t.Errorf("message = %s %q, want %s %q", got.Channel, got.Payload, channel, payload)
	}
}

func testPubSub(t *testing.T, s cache.Store) {
	ctx := t.Context()
	if _, err := s.Subscribe(ctx); err == nil {
		t.Error("Subscribe without channels: want an error")
	}
	noErr(t, s.Publish(ctx, "nobody", []byte("x")))

	one := must(s.Subscribe(ctx, "a"))(t)
	two := must(s.Subscribe(ctx, "a", "b", "a"))(t)
	defer two.Close()

	buf := []byte("x1")
	noErr(t, s.Publish(ctx, "a", buf))
	buf[1] = '!' // the store must not keep the caller's buffer
	eqMsg(t, receive(t, one), "a", "x1")
	eqMsg(t, receive(t, two), "a", "x1")

	noErr(t, s.Publish(ctx, "b", []byte("y")))
	eqMsg(t, receive(t, two), "b", "y")
	quiet(t, one, 50*time.Millisecond)

	// After Close nothing new arrives and Messages is closed.
	noErr(t, one.Close())
	noErr(t, one.Close())
	noErr(t, s.Publish(ctx, "a", []byte("z")))
	eqMsg(t, receive(t, two), "a", "z")
	for m := range one.Messages() {
		t.Errorf("closed subscription delivered %s %q", m.Channel, m.Payload)
	}
	quiet(t, two, 50*time.Millisecond) // "a" twice in Subscribe still means one delivery
}

func testClose(t *testing.T, s cache.Store) {
	ctx := t.Context()
	noErr(t, s.Ping(ctx))
	sub := must(s.Subscribe(ctx, "c"))(t)
	noErr(t, s.Close())
	noErr(t, s.Close())

	select {
	case _, ok := <-sub.Messages():
		if ok {
			t.Error("message after store Close")
		}
	case <-time.After(3 * time.Second):
		t.Error("store Close left a subscription open")
	}
	for what, err := range map[string]error{
		"Ping":      s.Ping(ctx),
		"Get":       third(s.Get(ctx, "k")),
		"SAdd":      second(s.SAdd(ctx, "k", "m")),
		"Publish":   s.Publish(ctx, "c", nil),
		"Subscribe": second(s.Subscribe(ctx, "c")),
	} {
		if !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s after Close = %v, want ErrUnavailable", what, err)
		}
	}
}

func TestMemoryDropsWhenSubscriberFull(t *testing.T) {
	m := cache.NewMemory()
	defer m.Close()
	testDrops(t, m, m.Dropped, cache.SubscriptionBuffer)
}

func TestRedisDropsWhenSubscriberFull(t *testing.T) {
	opts := cachetest.Options(t)
	opts.SubscriptionBuffer = 4
	r, err := cache.NewRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	testDrops(t, r, r.Dropped, 4)
}

// testDrops publishes past a subscriber's buffer of size buf without reading
// and checks that the excess is dropped and counted and the rest delivered.
func testDrops(t *testing.T, s cache.Store, dropped func() uint64, buf int) {
	ctx := t.Context()
	sub := must(s.Subscribe(ctx, "full"))(t)
	defer sub.Close()
	const extra = 10
	start := time.Now()
	for range buf + extra {
		noErr(t, s.Publish(ctx, "full", []byte("m")))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publishing to a full subscriber took %v", d)
	}
	eventually(t, "drops counted", func() bool { return dropped() == extra })
	for range buf {
		receive(t, sub)
	}
	quiet(t, sub, 50*time.Millisecond)
}

// TestMemoryPairKeys runs the contract on the keys Memory keeps in pairs.
func TestMemoryPairKeys(t *testing.T) {
	for _, prefix := range []string{"user:", "nick:"} {
		t.Run(prefix, func(t *testing.T) {
			testStore(t, func(t *testing.T) cache.Store {
				m := cache.NewMemory()
				t.Cleanup(func() { _ = m.Close() })
				return prefixed{m, prefix}
			})
		})
	}
}

// prefixed puts prefix before every key of its Store.
type prefixed struct {
	cache.Store
	prefix string
}

func (p prefixed) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.prefix + k
	}
	return out
}

func (p prefixed) SAdd(ctx context.Context, key string, members ...string) (int64, error) {
	return p.Store.SAdd(ctx, p.prefix+key, members...)
}

func (p prefixed) SRem(ctx context.Context, key string, members ...string) (int64, error) {
	return p.Store.SRem(ctx, p.prefix+key, members...)
}

func (p prefixed) SMembers(ctx context.Context, key string) ([]string, error) {
	return p.Store.SMembers(ctx, p.prefix+key)
}

func (p prefixed) SCard(ctx context.Context, key string) (int64, error) {
	return p.Store.SCard(ctx, p.prefix+key)
}

func (p prefixed) SIsMember(ctx context.Context, key, member string) (bool, error) {
	return p.Store.SIsMember(ctx, p.prefix+key, member)
}

func (p prefixed) SUnion(ctx context.Context, keys ...string) ([]string, error) {
	return p.Store.SUnion(ctx, p.keys(keys)...)
}

func (p prefixed) SUnionCard(ctx context.Context, keys ...string) (int64, error) {
	return p.Store.SUnionCard(ctx, p.keys(keys)...)
}

func (p prefixed) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	return p.Store.Set(ctx, p.prefix+key, value, ttl)
}

func (p prefixed) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	return p.Store.SetNX(ctx, p.prefix+key, value, ttl)
}

func (p prefixed) Get(ctx context.Context, key string) (string, bool, error) {
	return p.Store.Get(ctx, p.prefix+key)
}

func (p prefixed) MGet(ctx context.Context, keys ...string) ([]cache.Value, error) {
	return p.Store.MGet(ctx, p.keys(keys)...)
}

func (p prefixed) Del(ctx context.Context, keys ...string) error {
	return p.Store.Del(ctx, p.keys(keys)...)
}

func (p prefixed) Incr(ctx context.Context, key string) (int64, error) {
	return p.Store.Incr(ctx, p.prefix+key)
}
