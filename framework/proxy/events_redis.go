package proxy

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// RedisEvents keeps disconnect events in Redis, shared by every node of a
// cluster: a node's open connections in a hash of its own (so the node that
// purges it after a crash reports them), the events in a hash, and their
// next attempt in a sorted set that any node leases from.
type RedisEvents struct {
	rdb    *redis.Client
	prefix string
}

var _ Events = (*RedisEvents)(nil)

// RedisOptions locate the Redis that holds the events: the cache's.
type RedisOptions struct {
	Addr     string
	Password string
	DB       int
	Prefix   string // prepended to every key, as the cache's
}

// NewRedisEvents connects to Redis (lazily, as go-redis does).
func NewRedisEvents(o RedisOptions) *RedisEvents {
	return &RedisEvents{rdb: redis.NewClient(&redis.Options{Addr: o.Addr, Password: o.Password, DB: o.DB}), prefix: o.Prefix}
}

// Close releases the connections.
func (r *RedisEvents) Close() error { return r.rdb.Close() }

func (r *RedisEvents) openKey(node string) string { return r.prefix + "proxy:open:" + node }
func (r *RedisEvents) eventsKey() string          { return r.prefix + "proxy:events" }
func (r *RedisEvents) dueKey() string             { return r.prefix + "proxy:due" }
func (r *RedisEvents) endedKey() string           { return r.prefix + "proxy:ended" }

// Opened implements Events.
func (r *RedisEvents) Opened(ctx context.Context, e Event) error {
	return wrap("record open connection", r.rdb.HSet(ctx, r.openKey(e.Node), e.ID, string(mustJSON(e))).Err())
}

// Ended implements Events.
func (r *RedisEvents) Ended(ctx context.Context, es []Event) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range es {
			p.HSet(ctx, r.eventsKey(), e.ID, string(mustJSON(e)))
			p.ZAdd(ctx, r.dueKey(), redis.Z{Score: float64(e.Time), Member: e.ID})
			p.ZAdd(ctx, r.endedKey(), redis.Z{Score: float64(e.Time), Member: e.ID})
			p.HDel(ctx, r.openKey(e.Node), e.ID)
		}
		return nil
	})
	return wrap("store disconnect events", err)
}

// lostScript moves a node's open records into the events, atomically, so
// that of several nodes reporting the node at once exactly one moves each.
// An open record is an Event without code, reason and time: they are
// appended to its JSON object.
var lostScript = redis.NewScript(`
local kv = redis.call('HGETALL', KEYS[1])
for i = 1, #kv, 2 do
  local id, v = kv[i], kv[i + 1]
  local e = string.sub(v, 1, -2) .. ',"code":` + strconv.Itoa(LostCode) + `,"reason":"` + LostReason + `","time":' .. ARGV[1] .. '}'
  redis.call('HSETNX', KEYS[2], id, e)
  redis.call('ZADD', KEYS[3], 'NX', ARGV[1], id)
  redis.call('ZADD', KEYS[4], 'NX', ARGV[1], id)
end
redis.call('DEL', KEYS[1])
return #kv / 2
`)

// Lost implements Events.
func (r *RedisEvents) Lost(ctx context.Context, node string, at int64) (int, error) {
	n, err := lostScript.Run(ctx, r.rdb, []string{r.openKey(node), r.eventsKey(), r.dueKey(), r.endedKey()}, at).Int()
	return n, wrap("report lost connections", err)
}

// Restarted implements Events: records of this node id from an earlier run
// (a fixed node_id restarted before the others purged it). Earlier runs
// under other ids are purged, and reported, as dead nodes.
func (r *RedisEvents) Restarted(ctx context.Context, node string, at int64) (int, error) {
	return r.Lost(ctx, node, at)
}

// Beat implements Events: the cluster's liveness keys say which nodes live,
// and the node that purges a dead one calls Lost.
func (r *RedisEvents) Beat(context.Context, string, int64) (int, error) { return 0, nil }

// leaseScript takes up to ARGV[3] due events and pushes their next attempt
// to ARGV[2], atomically, so two nodes never lease the same event at once.
var leaseScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
if #ids == 0 then return {} end
local vals = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  if vals[i] then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, vals[i])
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// Lease implements Events.
func (r *RedisEvents) Lease(ctx context.Context, now, until int64, n int) ([]Event, error) {
	vals, err := leaseScript.Run(ctx, r.rdb, []string{r.dueKey(), r.eventsKey()}, now, until, n).StringSlice()
	if err != nil {
		return nil, wrap("lease disconnect events", err)
	}
	out := make([]Event, 0, len(vals))
	for _, v := range vals {
		var e Event
		if json.Unmarshal([]byte(v), &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// Delivered implements Events.
func (r *RedisEvents) Delivered(ctx context.Context, ids ...string) error {
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, r.eventsKey(), ids...)
		p.ZRem(ctx, r.dueKey(), members...)
		p.ZRem(ctx, r.endedKey(), members...)
		return nil
	})
	return wrap("forget delivered events", err)
}

// Retry implements Events.
func (r *RedisEvents) Retry(ctx context.Context, e Event, next int64) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.eventsKey(), e.ID, string(mustJSON(e)))
		p.ZAdd(ctx, r.dueKey(), redis.Z{Score: float64(next), Member: e.ID})
		return nil
	})
	return wrap("reschedule an event", err)
}

// Stats implements Events.
func (r *RedisEvents) Stats(ctx context.Context) (int, int64, error) {
	n, err := r.rdb.ZCard(ctx, r.dueKey()).Result()
	if err != nil {
		return 0, 0, wrap("count events", err)
	}
	first, err := r.rdb.ZRangeWithScores(ctx, r.endedKey(), 0, 0).Result()
	if err != nil || len(first) == 0 {
		return int(n), 0, wrap("count events", err)
	}
	return int(n), int64(first[0].Score), nil
}
