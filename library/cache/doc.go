// Package cache is the state msgo shares beyond one process: close keys,
// groups (rooms) and presence as sets, node liveness as values with a TTL,
// room sequence numbers as counters, and the cluster bus as publish/subscribe.
//
// Store is the one interface; it has two implementations that pass the same
// behaviour tests:
//
//   - Memory (NewMemory): in-process, the embedded single-node default. Tests
//     give several nodes one *Memory to simulate a cluster.
//   - Redis (NewRedis): go-redis v9, for many nodes behind a load balancer.
//
// Example:
//
//	store, err := cache.NewRedis(cache.RedisOptions{Addr: "127.0.0.1:6379", Prefix: "msgo:"})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	if _, err := store.SAdd(ctx, "group:lobby", "node1:42"); errors.Is(err, cache.ErrUnavailable) {
//		// reply 503; the store recovers by itself when Redis is back
//	}
//	sub, err := store.Subscribe(ctx, "bus:node1")
//	if err != nil {
//		return err
//	}
//	for msg := range sub.Messages() {
//		handle(msg.Channel, msg.Payload)
//	}
//
// # Concurrency
//
// Every method of both stores, and Close of a Subscription, is safe for
// concurrent use. A Subscription's Messages channel has a bounded buffer
// (SubscriptionBuffer messages); a message that finds it full is dropped and
// counted (Memory.Dropped, Redis.Dropped), so a slow reader never blocks a
// publisher or the Redis connection. Read Messages promptly from one
// goroutine. A Message's Payload may be shared with other subscribers: do not
// modify it. Multi-key reads on Memory lock one key at a time, so they are
// not a snapshot across keys; on Redis they are atomic.
//
// # Key prefix
//
// RedisOptions.Prefix is prepended to every key and every channel, so that
// several applications, or test runs (see package cachetest), can share one
// Redis. It is invisible to callers: they pass unprefixed keys and channels,
// and Message.Channel comes back unprefixed.
//
// # When Redis is down
//
// NewRedis never dials, so a node starts while Redis is down. Every call
// that cannot reach Redis returns an error for which
// errors.Is(err, ErrUnavailable) is true, within about one dial or read
// timeout (500 ms by default) when Redis refuses or does not answer. Nothing
// needs restarting: go-redis re-dials on later calls (after a burst of failed
// dials it probes about once a second), and an open Subscription reconnects
// and resubscribes by itself. Messages published while a subscriber was
// disconnected are lost: pub/sub is not a queue. Subscribe itself, which
// waits for Redis to confirm, fails with ErrUnavailable while Redis is down;
// callers retry it.
//
// A Redis restarted without persistence comes back empty; the cluster code
// that owns presence and liveness keys is expected to rebuild them.
package cache
