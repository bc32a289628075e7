package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults applied by NewRedis to zero RedisOptions fields. The timeouts are
// short on purpose: a node whose Redis is gone should answer 503 within a
// second, not hang its workers.
const (
	DefaultRedisAddr         = "127.0.0.1:6379"
	DefaultRedisDialTimeout  = 500 * time.Millisecond
	DefaultRedisReadTimeout  = 500 * time.Millisecond
	DefaultRedisWriteTimeout = 500 * time.Millisecond
	// DefaultRedisMaxRetries is how often a failed command is retried: once,
	// enough to ride over a pooled connection that a Redis restart killed,
	// while a call against a dead Redis still fails within about
	// 2 × (DialTimeout + ReadTimeout).
	DefaultRedisMaxRetries = 1
)

// RedisOptions configures NewRedis. Zero fields take the Default* values.
type RedisOptions struct {
	Addr     string // host:port
	Password string
	DB       int
	// Prefix is prepended to every key and every pub/sub channel, so several
	// applications (or test runs) can share one Redis. Callers never see it:
	// keys go in and channels come out without it.
	Prefix string

	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// PoolSize is the maximum number of command connections; 0 keeps
	// go-redis's default of 10 per GOMAXPROCS. Each Subscription uses one
	// more connection of its own.
	PoolSize int
	// MaxRetries is how often a command is retried after a network error;
	// 0 means DefaultRedisMaxRetries and -1 disables retries.
	MaxRetries int
	// SubscriptionBuffer is each Subscription's buffer; 0 means
	// SubscriptionBuffer.
	SubscriptionBuffer int
}

// Redis is a Store backed by Redis through go-redis v9, shared by every node
// of a cluster.
//
// NewRedis does not contact Redis: go-redis dials lazily, so a node starts
// while Redis is down, its calls fail with ErrUnavailable, and it recovers by
// itself once Redis is back (go-redis re-dials; after repeated dial failures it
// probes about once a second). A Subscription reconnects and resubscribes on
// its own; messages published while it was disconnected are lost.
//
// Like Memory, a Subscription never blocks the connection that feeds it: a
// message arriving while its buffer is full is dropped and counted in Dropped.
type Redis struct {
	client *redis.Client
	prefix string
	subBuf int
	// tmpKey receives SUNIONSTORE's result inside a MULTI that deletes it
	// again, so no other client ever sees it.
	tmpKey string

	dropped atomic.Uint64

	mu     sync.Mutex
	subs   map[*redisSub]struct{}
	closed bool
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Redis store for opts. It does not dial, so it fails only
// for invalid options, never because Redis is down; use Ping to check.
func NewRedis(opts RedisOptions) (*Redis, error) {
	if opts.PoolSize < 0 || opts.SubscriptionBuffer < 0 {
		return nil, fmt.Errorf("cache: redis options: negative PoolSize or SubscriptionBuffer")
	}
	opts.Addr = cmp.Or(opts.Addr, DefaultRedisAddr)
	opts.DialTimeout = cmp.Or(opts.DialTimeout, DefaultRedisDialTimeout)
	opts.ReadTimeout = cmp.Or(opts.ReadTimeout, DefaultRedisReadTimeout)
	opts.WriteTimeout = cmp.Or(opts.WriteTimeout, DefaultRedisWriteTimeout)
	opts.MaxRetries = cmp.Or(opts.MaxRetries, DefaultRedisMaxRetries)
	opts.SubscriptionBuffer = cmp.Or(opts.SubscriptionBuffer, SubscriptionBuffer)

	client := redis.NewClient(&redis.Options{
		Addr:         opts.Addr,
		Password:     opts.Password,
		DB:           opts.DB,
		DialTimeout:  opts.DialTimeout,
		ReadTimeout:  opts.ReadTimeout,
		WriteTimeout: opts.WriteTimeout,
		PoolSize:     opts.PoolSize,
		MaxRetries:   opts.MaxRetries,
		// go-redis dials up to 5 times per attempt by default, which turns a
		// refused connection into half a second of waiting per command.
		DialerRetries: 1,
		// Let the caller's deadline bound socket I/O too.
		ContextTimeoutEnabled: true,
	})
	return &Redis{
		client: client,
		prefix: opts.Prefix,
		subBuf: opts.SubscriptionBuffer,
		tmpKey: opts.Prefix + "msgo:cache:sunioncard:tmp",
		subs:   make(map[*redisSub]struct{}),
	}, nil
}

// Dropped reports how many messages were dropped because a subscriber's
// buffer was full.
func (r *Redis) Dropped() uint64 { return r.dropped.Load() }

func (r *Redis) key(k string) string { return r.prefix + k }

func (r *Redis) keys(ks []string) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = r.prefix + k
	}
	return out
}

// fail wraps err from op on key (unprefixed), marking backend outages with
// ErrUnavailable while keeping the cause reachable through errors.Is.
func (r *Redis) fail(op, key string, err error) error {
	if unavailable(err) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return opError(op, key, err)
}

// unavailable reports whether err means Redis could not be reached or could
// not serve, as opposed to a command error such as WRONGTYPE.
func unavailable(err error) bool {
	switch {
	case errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	var ne net.Error // dial, DNS and timeout errors
	if errors.As(err, &ne) {
		return true
	}
	// Redis answers these while starting, failing over or stuck in a script.
	for _, p := range []string{"LOADING", "MASTERDOWN", "READONLY", "BUSY "} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	// Last resort for causes that reached us flattened into text.
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "max number of clients reached"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// SAdd implements Store.
func (r *Redis) SAdd(ctx context.Context, key string, members ...string) (int64, error) {
	if len(members) == 0 {
		return 0, nil // Redis rejects SADD without members; the contract says 0 new.
	}
	n, err := r.client.SAdd(ctx, r.key(key), anys(members)...).Result()
	if err != nil {
		return 0, r.fail("sadd", key, err)
	}
	return n, nil
}

// SRem implements Store.
func (r *Redis) SRem(ctx context.Context, key string, members ...string) (int64, error) {
	if len(members) == 0 {
		return 0, nil
	}
	n, err := r.client.SRem(ctx, r.key(key), anys(members)...).Result()
	if err != nil {
		return 0, r.fail("srem", key, err)
	}
	return n, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// SMembers implements Store.
func (r *Redis) SMembers(ctx context.Context, key string) ([]string, error) {
	ms, err := r.client.SMembers(ctx, r.key(key)).Result()
	if err != nil {
		return nil, r.fail("smembers", key, err)
	}
	return ms, nil
}

// SCard implements Store.
func (r *Redis) SCard(ctx context.Context, key string) (int64, error) {
	n, err := r.client.SCard(ctx, r.key(key)).Result()
	if err != nil {
		return 0, r.fail("scard", key, err)
	}
	return n, nil
}

// SIsMember implements Store.
func (r *Redis) SIsMember(ctx context.Context, key, member string) (bool, error) {
	in, err := r.client.SIsMember(ctx, r.key(key), member).Result()
	if err != nil {
		return false, r.fail("sismember", key, err)
	}
	return in, nil
}

// SUnion implements Store.
func (r *Redis) SUnion(ctx context.Context, keys ...string) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	ms, err := r.client.SUnion(ctx, r.keys(keys)...).Result()
	if err != nil {
		return nil, r.fail("sunion", keys[0], err)
	}
	return ms, nil
}

// SUnionCard implements Store. SUNIONSTORE into a temporary key returns the
// count, and the DEL in the same MULTI removes the key before any other
// client can see it, so members never cross the network and, unlike a Lua
// unpack, any number of keys works.
func (r *Redis) SUnionCard(ctx context.Context, keys ...string) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	var card *redis.IntCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		card = p.SUnionStore(ctx, r.tmpKey, r.keys(keys)...)
		p.Del(ctx, r.tmpKey)
		return nil
	})
	if err != nil {
		return 0, r.fail("sunioncard", keys[0], err)
	}
	return card.Val(), nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if ttl < 0 {
		return opError("set", key, errNegTTL)
	}
	if err := r.client.Set(ctx, r.key(key), value, ttl).Err(); err != nil {
		return r.fail("set", key, err)
	}
	return nil
}

// SetNX implements Store.
func (r *Redis) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if ttl < 0 {
		return false, opError("setnx", key, errNegTTL)
	}
	ok, err := r.client.SetNX(ctx, r.key(key), value, ttl).Result()
	if err != nil {
		return false, r.fail("setnx", key, err)
	}
	return ok, nil
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := r.client.Get(ctx, r.key(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, r.fail("get", key, err)
	}
	return v, true, nil
}

// MGet implements Store.
func (r *Redis) MGet(ctx context.Context, keys ...string) ([]Value, error) {
	if len(keys) == 0 {
		return []Value{}, nil
	}
	vs, err := r.client.MGet(ctx, r.keys(keys)...).Result()
	if err != nil {
		return nil, r.fail("mget", keys[0], err)
	}
	out := make([]Value, len(vs))
	for i, v := range vs {
		if s, ok := v.(string); ok {
			out[i] = Value{Value: s, OK: true}
		}
	}
	return out, nil
}

// Del implements Store.
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := r.client.Del(ctx, r.keys(keys)...).Err(); err != nil {
		return r.fail("del", keys[0], err)
	}
	return nil
}

// Incr implements Store.
func (r *Redis) Incr(ctx context.Context, key string) (int64, error) {
	n, err := r.client.Incr(ctx, r.key(key)).Result()
	if err != nil {
		return 0, r.fail("incr", key, err)
	}
	return n, nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return r.fail("ping", "", err)
	}
	return nil
}

// Close closes every Subscription and the connection pool. Calls made after
// Close return an error wrapping ErrUnavailable. Close is idempotent.
func (r *Redis) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	subs := r.subs
	r.subs = nil
	r.mu.Unlock()

	for sub := range subs {
		_ = sub.Close()
	}
	if err := r.client.Close(); err != nil {
		return opError("close", "", err)
	}
	return nil
}

// Publish implements Store.
func (r *Redis) Publish(ctx context.Context, channel string, payload []byte) error {
	if err := r.client.Publish(ctx, r.prefix+channel, payload).Err(); err != nil {
		return r.fail("publish", channel, err)
	}
	return nil
}

// Subscribe implements Store. It returns once Redis has confirmed every
// channel, so a message published after Subscribe returns is delivered. If
// Redis cannot be reached it fails with ErrUnavailable; retry later. Once
// returned, the Subscription outlives Redis restarts: go-redis reconnects
// and resubscribes by itself.
func (r *Redis) Subscribe(ctx context.Context, channels ...string) (Subscription, error) {
	if len(channels) == 0 {
		return nil, opError("subscribe", "", errNoChannel)
	}
	// Redis confirms each argument, duplicates included; deduplicate so the
	// count of confirmations to wait for is the count of channels.
	seen := make(map[string]struct{}, len(channels))
	var names []string
	for _, c := range channels {
		if _, dup := seen[c]; !dup {
			seen[c] = struct{}{}
			names = append(names, r.prefix+c)
		}
	}
	ps := r.client.Subscribe(ctx, names...)
	early, err := r.awaitSubscribed(ctx, ps, len(names))
	if err != nil {
		_ = ps.Close()
		return nil, r.fail("subscribe", channels[0], err)
	}

	sub := &redisSub{r: r, ps: ps, ch: make(chan Message, r.subBuf), done: make(chan struct{})}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = ps.Close()
		return nil, r.fail("subscribe", channels[0], redis.ErrClosed)
	}
	r.subs[sub] = struct{}{}
	r.mu.Unlock()

	// Receive must not be used once Channel exists, hence the order.
	go sub.forward(early, ps.Channel())
	return sub, nil
}

// awaitSubscribed reads replies until n subscribe confirmations have arrived
// and returns the messages that came in between.
func (r *Redis) awaitSubscribed(ctx context.Context, ps *redis.PubSub, n int) ([]Message, error) {
	var early []Message
	for confirmed := 0; confirmed < n; {
		reply, err := ps.ReceiveTimeout(ctx, r.client.Options().ReadTimeout)
		if err != nil {
			return nil, err
		}
		switch reply := reply.(type) {
		case *redis.Subscription:
			confirmed++
		case *redis.Message:
			early = append(early, r.message(reply))
		}
	}
	return early, nil
}

func (r *Redis) message(m *redis.Message) Message {
	return Message{Channel: strings.TrimPrefix(m.Channel, r.prefix), Payload: []byte(m.Payload)}
}

// redisSub is a Redis Subscription: one go-redis PubSub (its own connection)
// and a goroutine that adapts its messages.
type redisSub struct {
	r    *Redis
	ps   *redis.PubSub
	ch   chan Message
	done chan struct{} // closed when forward has returned and ch is closed
	once sync.Once
}

func (s *redisSub) Messages() <-chan Message { return s.ch }

// forward moves messages to s.ch without ever blocking, so a slow reader
// cannot stall the PubSub connection, until go-redis closes in.
func (s *redisSub) forward(early []Message, in <-chan *redis.Message) {
	defer close(s.done)
	defer close(s.ch)
	for _, m := range early {
		s.deliver(m)
	}
	for m := range in {
		s.deliver(s.r.message(m))
	}
}

func (s *redisSub) deliver(m Message) {
	select {
	case s.ch <- m:
	default:
		s.r.dropped.Add(1)
	}
}

// Close ends the subscription and returns once Messages is closed; messages
// already buffered can still be drained. Close is idempotent.
func (s *redisSub) Close() error {
	s.once.Do(func() {
		_ = s.ps.Close()
		<-s.done
		s.r.mu.Lock()
		delete(s.r.subs, s)
		s.r.mu.Unlock()
	})
	return nil
}
