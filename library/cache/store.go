package cache

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrUnavailable wraps every error a Store returns because its backend could not
// be reached (connection refused, timeout, closed). Callers map it to status 503.
var ErrUnavailable = errors.New("cache: store unavailable")

// Store is the shared state msgo keeps outside a single process: sets for close
// keys, groups and presence, values with a TTL for node liveness, counters for
// room sequence numbers, and publish/subscribe for the cluster bus.
//
// Every method is safe for concurrent use. A key that does not exist behaves as
// an empty set, a missing value or a zero counter.
type Store interface {
	// SAdd adds members to the set at key and reports how many were new.
	// Using a key that holds a value as a set, or the reverse, is an error.
	SAdd(ctx context.Context, key string, members ...string) (int64, error)
	// SRem removes members from the set at key and reports how many were there.
	// A set left empty is deleted.
	SRem(ctx context.Context, key string, members ...string) (int64, error)
	// SMembers returns the members of the set at key in no particular order.
	SMembers(ctx context.Context, key string) ([]string, error)
	// SCard returns the number of members of the set at key.
	SCard(ctx context.Context, key string) (int64, error)
	// SIsMember reports whether member is in the set at key.
	SIsMember(ctx context.Context, key, member string) (bool, error)
	// SUnion returns the distinct members of all the sets at keys.
	SUnion(ctx context.Context, keys ...string) ([]string, error)
	// SUnionCard returns how many distinct members the sets at keys hold
	// together, without moving the members to the caller.
	SUnionCard(ctx context.Context, keys ...string) (int64, error)

	// Set stores value at key, replacing a key of any kind; ttl 0 means no
	// expiry (clearing an earlier TTL), a negative ttl is an error.
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// SetNX stores value at key only if key does not exist and reports whether it did.
	SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	// Get returns the value at key and whether it exists.
	Get(ctx context.Context, key string) (string, bool, error)
	// MGet returns the values at keys, in order; a missing key, or one that
	// holds a set, gives OK=false.
	MGet(ctx context.Context, keys ...string) ([]Value, error)
	// Del deletes keys of any kind.
	Del(ctx context.Context, keys ...string) error

	// Incr adds one to the counter at key and returns the new value. A
	// counter is a decimal value: Get reads it, Set resets it, and Incr keeps
	// the key's TTL.
	Incr(ctx context.Context, key string) (int64, error)

	// Publish sends payload to every current subscriber of channel.
	Publish(ctx context.Context, channel string, payload []byte) error
	// Subscribe starts receiving messages published to channels; when it
	// returns, the subscription is active. The subscription survives
	// reconnects of the backend; messages published while it is disconnected
	// are lost (pub/sub is not a queue). A subscriber whose buffer is full
	// loses messages rather than blocking publishers.
	Subscribe(ctx context.Context, channels ...string) (Subscription, error)

	// Ping checks that the backend answers.
	Ping(ctx context.Context) error
	// Close releases the backend's resources. Subscriptions are closed too,
	// and later calls fail with ErrUnavailable. Close is idempotent.
	Close() error
}

// Value is one result of MGet.
type Value struct {
	Value string
	OK    bool
}

// Message is one published payload received by a Subscription. Payload may
// be shared by every subscriber of one Publish: treat it as read-only.
type Message struct {
	Channel string
	Payload []byte
}

// Subscription delivers published messages until closed.
type Subscription interface {
	// Messages returns the channel messages arrive on; it is closed by Close
	// (messages buffered before can still be drained).
	Messages() <-chan Message
	// Close ends the subscription. It is idempotent.
	Close() error
}

// Argument errors both stores return before touching their backend.
var (
	errNoChannel = errors.New("no channels")
	// errNegTTL: go-redis would read a negative TTL as KEEPTTL, Memory as
	// none; the contract has no such case, so both refuse it.
	errNegTTL = errors.New("negative ttl")
)

// opError gives every Store error the same "cache: op key: cause" shape.
func opError(op, key string, err error) error {
	if key == "" {
		return fmt.Errorf("cache: %s: %w", op, err)
	}
	return fmt.Errorf("cache: %s %s: %w", op, key, err)
}
