package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// SubscriptionBuffer is how many undelivered messages a Subscription holds
	// before further messages to it are dropped and counted.
	SubscriptionBuffer = 1024

	memoryShards = 32
	// memorySweepInterval bounds how long an expired key nobody reads keeps
	// its memory; reads never see it, because expiry is also checked on access.
	memorySweepInterval = time.Second
)

var (
	// errWrongType mirrors Redis's WRONGTYPE so both stores fail alike when a
	// key is used as a set and as a value.
	errWrongType = errors.New("WRONGTYPE operation against a key holding the wrong kind of value")
	errNotInt    = errors.New("value is not an integer or out of range")
	// errMemoryClosed is what every call on a closed Memory returns; it wraps
	// ErrUnavailable so callers treat it like a Redis that went away.
	errMemoryClosed = fmt.Errorf("%w: memory store closed", ErrUnavailable)
)

// Memory is a Store kept in this process: the embedded default for a single
// node, and a shared fake cluster backend when several nodes in one test
// process are given the same *Memory.
//
// Keys live in 32 shards, each a map under its own mutex. TTLs are enforced
// when a key is touched and by a sweep once a second that only visits keys
// with a TTL, and the "user:" and "nick:" keys of one shard (see
// pairPrefixes). Multi-key reads (SUnion, SUnionCard, MGet) lock one shard at a
// time, so unlike Redis they are not a snapshot across keys.
//
// Publish fans out in-process. Each Subscription has a buffer of
// SubscriptionBuffer messages; when it is full the message is dropped for that
// subscriber and counted in Dropped, so a stalled subscriber never blocks the
// publisher or other subscribers. Subscribers of one Publish share one copy of
// the payload and must not modify it.
type Memory struct {
	start  time.Time // monotonic origin of entry deadlines
	shards [memoryShards]memoryShard

	subMu sync.RWMutex
	subs  map[string]map[*memorySub]struct{} // channel -> subscribers

	dropped   atomic.Uint64
	closed    atomic.Bool
	stop      chan struct{}
	swept     chan struct{} // closed when the sweeper has returned
	pairSweep atomic.Uint32 // sweeps so far: picks the shard whose pairs are visited
}

var _ Store = (*Memory)(nil)

type memoryShard struct {
	mu       sync.Mutex
	entries  map[string]memoryEntry
	volatile map[string]struct{} // keys that carry a deadline, for the sweep

	// pairs holds the pair keys by their rest. Their TTLs have no index:
	// the sweep visits one shard's pairs a tick.
	pairs map[string]*memoryPair
}

// pairPrefixes are the prefixes of the keys msgo writes for every user, its
// nodes set ("user:" + user) and its nickname ("nick:" + user). Keys with the
// same rest after either prefix share one memoryPair: one map slot and one
// copy of the rest instead of two slots and two full keys. Each key still
// behaves as a key of its own.
var pairPrefixes = [2]string{"user:", "nick:"}

// memoryPair holds the two keys pairPrefixes[i] + rest; e[i].set ==
// noEntry when that key does not exist.
type memoryPair struct {
	e [2]memoryEntry
}

// noEntry marks the half of a memoryPair whose key does not exist.
var noEntry = &memorySet{}

// pairOf splits a pair key into its rest and its half.
func pairOf(key string) (rest string, half int, ok bool) {
	for i, p := range pairPrefixes {
		if rest, ok := strings.CutPrefix(key, p); ok {
			return rest, i, true
		}
	}
	return "", 0, false
}

// memoryEntry is a set when set is non-nil, else a string value (counters are
// decimal strings, as in Redis, so Get and Incr see the same data). A set of
// one member, the most common kind msgo keeps (a user's nodes, a connection's
// close key), is set == loneMember with the member in val: no allocation
// beyond the entry itself.
type memoryEntry struct {
	set      *memorySet
	val      string
	deadline time.Duration // since Memory.start; 0 means none
}

// loneMember marks an entry that is a set of one member, held in val.
var loneMember = &memorySet{}

// smallSet is how many members a set keeps in a slice before it becomes a
// map: a map costs some 200 bytes even for a few members.
const smallSet = 8

// memorySet is a set of two or more strings: a slice while small, a map past
// smallSet.
type memorySet struct {
	small []string
	big   map[string]struct{}
}

func (e *memoryEntry) setLen() int {
	switch {
	case e.set == nil:
		return 0
	case e.set == loneMember:
		return 1
	case e.set.big != nil:
		return len(e.set.big)
	}
	return len(e.set.small)
}

func (e *memoryEntry) setHas(s string) bool {
	switch {
	case e.set == nil:
		return false
	case e.set == loneMember:
		return e.val == s
	case e.set.big != nil:
		_, ok := e.set.big[s]
		return ok
	}
	return slices.Contains(e.set.small, s)
}

// setAdd adds s to the set e (a zero e is an empty set) and reports whether
// it was new. It changes e itself only when e was empty or had one member:
// then the caller stores e back. Otherwise it changes the *memorySet in place
// and the caller does not store e: storing would also replace the map's key
// with the caller's string, a fresh small object left live among the
// garbage of every call.
func (e *memoryEntry) setAdd(s string) bool {
	if e.setHas(s) {
		return false
	}
	switch m := e.set; {
	case m == nil:
		e.set, e.val = loneMember, s
	case m == loneMember:
		e.set = &memorySet{small: []string{e.val, s}}
		e.val = ""
	case m.big != nil:
		m.big[s] = struct{}{}
	case len(m.small) < smallSet:
		m.small = append(m.small, s)
	default:
		m.big = make(map[string]struct{}, 2*smallSet)
		for _, x := range m.small {
			m.big[x] = struct{}{}
		}
		m.big[s] = struct{}{}
		m.small = nil
	}
	return true
}

// setRemove removes s from the set e and reports whether it was there. A
// lone member's removal leaves e with no set at all; a larger set changes in
// place. The caller deletes the key once setLen is 0 and stores nothing back.
func (e *memoryEntry) setRemove(s string) bool {
	switch m := e.set; {
	case m == nil:
		return false
	case m == loneMember:
		if e.val != s {
			return false
		}
		e.set, e.val = nil, ""
		return true
	case m.big != nil:
		_, ok := m.big[s]
		delete(m.big, s)
		return ok
	default:
		for i, x := range m.small {
			if x == s {
				last := len(m.small) - 1
				m.small[i] = m.small[last]
				m.small[last] = ""
				m.small = m.small[:last]
				return true
			}
		}
		return false
	}
}

// setEach calls fn for every member.
func (e *memoryEntry) setEach(fn func(string)) {
	switch m := e.set; {
	case m == nil:
	case m == loneMember:
		fn(e.val)
	case m.big != nil:
		for x := range m.big {
			fn(x)
		}
	default:
		for _, x := range m.small {
			fn(x)
		}
	}
}

// NewMemory returns an empty Memory and starts its expiry sweep; Close stops it.
func NewMemory() *Memory {
	m := &Memory{
		start: time.Now(),
		subs:  make(map[string]map[*memorySub]struct{}),
		stop:  make(chan struct{}),
		swept: make(chan struct{}),
	}
	for i := range m.shards {
		m.shards[i].entries = make(map[string]memoryEntry)
		m.shards[i].volatile = make(map[string]struct{})
		m.shards[i].pairs = make(map[string]*memoryPair)
	}
	go m.sweepLoop()
	return m
}

// Dropped reports how many messages were dropped because a subscriber's
// buffer was full.
func (m *Memory) Dropped() uint64 { return m.dropped.Load() }

func (m *Memory) now() time.Duration { return time.Since(m.start) }

// shard picks key's shard with FNV-1a, inline so it does not allocate. Both
// keys of a pair hash their common rest, so they meet in one shard.
func (m *Memory) shard(key string) *memoryShard {
	if rest, _, ok := pairOf(key); ok {
		key = rest
	}
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return &m.shards[h%memoryShards]
}

// lookup returns the live entry at key, deleting it first if it has expired.
// The caller holds s.mu.
func (s *memoryShard) lookup(key string, now time.Duration) (memoryEntry, bool) {
	if rest, half, ok := pairOf(key); ok {
		p := s.pairs[rest]
		if p == nil || p.e[half].set == noEntry {
			return memoryEntry{}, false
		}
		if d := p.e[half].deadline; d != 0 && d <= now {
			s.removeHalf(rest, p, half)
			return memoryEntry{}, false
		}
		return p.e[half], true
	}
	e, ok := s.entries[key]
	if ok && e.deadline != 0 && e.deadline <= now {
		s.remove(key)
		return memoryEntry{}, false
	}
	return e, ok
}

// put stores e at key, keeping the volatile indexes in step. The caller holds s.mu.
func (s *memoryShard) put(key string, e memoryEntry) {
	if rest, half, ok := pairOf(key); ok {
		p := s.pairs[rest]
		if p == nil {
			p = &memoryPair{e: [2]memoryEntry{{set: noEntry}, {set: noEntry}}}
			// A copy: rest shares the caller's key, prefix and all.
			s.pairs[strings.Clone(rest)] = p
		}
		p.e[half] = e
		return
	}
	s.entries[key] = e
	if e.deadline != 0 {
		s.volatile[key] = struct{}{}
	} else {
		delete(s.volatile, key)
	}
}

// remove deletes key. The caller holds s.mu.
func (s *memoryShard) remove(key string) {
	if rest, half, ok := pairOf(key); ok {
		if p := s.pairs[rest]; p != nil {
			s.removeHalf(rest, p, half)
		}
		return
	}
	delete(s.entries, key)
	delete(s.volatile, key)
}

// removeHalf deletes one key of the pair p at rest, and p once neither key
// exists. The caller holds s.mu.
func (s *memoryShard) removeHalf(rest string, p *memoryPair, half int) {
	p.e[half] = memoryEntry{set: noEntry}
	if p.e[0].set == noEntry && p.e[1].set == noEntry {
		delete(s.pairs, rest)
	}
}

// do runs fn on key's shard under its lock, unless m is closed.
func (m *Memory) do(op, key string, fn func(s *memoryShard, now time.Duration) error) error {
	if m.closed.Load() {
		return opError(op, key, errMemoryClosed)
	}
	s := m.shard(key)
	s.mu.Lock()
	err := fn(s, m.now())
	s.mu.Unlock()
	if err != nil {
		return opError(op, key, err)
	}
	return nil
}

// set passes the set at key to read; a missing key reads as an empty set.
func (m *Memory) set(op, key string, read func(e *memoryEntry)) error {
	return m.do(op, key, func(s *memoryShard, now time.Duration) error {
		e, ok := s.lookup(key, now)
		if ok && e.set == nil {
			return errWrongType
		}
		read(&e)
		return nil
	})
}

// SAdd implements Store.
func (m *Memory) SAdd(_ context.Context, key string, members ...string) (int64, error) {
	var added int64
	err := m.do("sadd", key, func(s *memoryShard, now time.Duration) error {
		e, ok := s.lookup(key, now)
		if ok && e.set == nil {
			return errWrongType
		}
		was := e.set
		for _, mb := range members {
			if e.setAdd(mb) {
				added++
			}
		}
		if e.set != was { // new, or grown out of its lone member
			s.put(key, e)
		}
		return nil
	})
	return added, err
}

// SRem implements Store.
func (m *Memory) SRem(_ context.Context, key string, members ...string) (int64, error) {
	var removed int64
	err := m.do("srem", key, func(s *memoryShard, now time.Duration) error {
		e, ok := s.lookup(key, now)
		if !ok {
			return nil
		}
		if e.set == nil {
			return errWrongType
		}
		for _, mb := range members {
			if e.setRemove(mb) {
				removed++
			}
		}
		if e.setLen() == 0 {
			s.remove(key)
		}
		return nil
	})
	return removed, err
}

// SMembers implements Store.
func (m *Memory) SMembers(_ context.Context, key string) ([]string, error) {
	var out []string
	err := m.set("smembers", key, func(e *memoryEntry) {
		out = make([]string, 0, e.setLen())
		e.setEach(func(mb string) {
			out = append(out, mb)
		})
	})
	return out, err
}

// SCard implements Store.
func (m *Memory) SCard(_ context.Context, key string) (int64, error) {
	var n int64
	err := m.set("scard", key, func(e *memoryEntry) { n = int64(e.setLen()) })
	return n, err
}

// SIsMember implements Store.
func (m *Memory) SIsMember(_ context.Context, key, member string) (bool, error) {
	var in bool
	err := m.set("sismember", key, func(e *memoryEntry) { in = e.setHas(member) })
	return in, err
}

// union collects the distinct members of the sets at keys, one shard lock at
// a time.
func (m *Memory) union(op string, keys []string) (map[string]struct{}, error) {
	all := make(map[string]struct{})
	for _, key := range keys {
		err := m.set(op, key, func(e *memoryEntry) {
			e.setEach(func(mb string) {
				all[mb] = struct{}{}
			})
		})
		if err != nil {
			return nil, err
		}
	}
	return all, nil
}

// SUnion implements Store.
func (m *Memory) SUnion(_ context.Context, keys ...string) ([]string, error) {
	if len(keys) == 1 {
		// One set, the common case (a group on one node): members are
		// distinct already, so no map is built to count them.
		var out []string
		err := m.set("sunion", keys[0], func(e *memoryEntry) {
			out = make([]string, 0, e.setLen())
			e.setEach(func(mb string) { out = append(out, mb) })
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	all, err := m.union("sunion", keys)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(all))
	for mb := range all {
		out = append(out, mb)
	}
	return out, nil
}

// SUnionCard implements Store.
func (m *Memory) SUnionCard(_ context.Context, keys ...string) (int64, error) {
	if len(keys) == 1 {
		var n int64
		err := m.set("sunioncard", keys[0], func(e *memoryEntry) { n = int64(e.setLen()) })
		return n, err
	}
	all, err := m.union("sunioncard", keys)
	return int64(len(all)), err
}

// deadline turns a TTL into an entry deadline; 0 means none.
func (m *Memory) deadline(ttl time.Duration, now time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return now + ttl
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, key, value string, ttl time.Duration) error {
	if ttl < 0 {
		return opError("set", key, errNegTTL)
	}
	return m.do("set", key, func(s *memoryShard, now time.Duration) error {
		s.put(key, memoryEntry{val: value, deadline: m.deadline(ttl, now)})
		return nil
	})
}

// SetNX implements Store.
func (m *Memory) SetNX(_ context.Context, key, value string, ttl time.Duration) (bool, error) {
	if ttl < 0 {
		return false, opError("setnx", key, errNegTTL)
	}
	var stored bool
	err := m.do("setnx", key, func(s *memoryShard, now time.Duration) error {
		if _, ok := s.lookup(key, now); ok {
			return nil
		}
		s.put(key, memoryEntry{val: value, deadline: m.deadline(ttl, now)})
		stored = true
		return nil
	})
	return stored, err
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) (string, bool, error) {
	var v Value
	err := m.do("get", key, func(s *memoryShard, now time.Duration) error {
		e, ok := s.lookup(key, now)
		if ok && e.set != nil {
			return errWrongType
		}
		v = Value{Value: e.val, OK: ok}
		return nil
	})
	return v.Value, v.OK, err
}

// MGet implements Store. A key holding a set reads as missing, as in Redis.
func (m *Memory) MGet(_ context.Context, keys ...string) ([]Value, error) {
	out := make([]Value, len(keys))
	for i, key := range keys {
		err := m.do("mget", key, func(s *memoryShard, now time.Duration) error {
			if e, ok := s.lookup(key, now); ok && e.set == nil {
				out[i] = Value{Value: e.val, OK: true}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Del implements Store.
func (m *Memory) Del(_ context.Context, keys ...string) error {
	for _, key := range keys {
		err := m.do("del", key, func(s *memoryShard, _ time.Duration) error {
			s.remove(key)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Incr implements Store. Like Redis INCR it keeps the key's TTL.
func (m *Memory) Incr(_ context.Context, key string) (int64, error) {
	var n int64
	err := m.do("incr", key, func(s *memoryShard, now time.Duration) error {
		e, ok := s.lookup(key, now)
		if ok && e.set != nil {
			return errWrongType
		}
		if ok {
			v, err := strconv.ParseInt(e.val, 10, 64)
			if err != nil || v == 1<<63-1 {
				return errNotInt
			}
			n = v
		}
		n++
		e.val = strconv.FormatInt(n, 10)
		s.put(key, e)
		return nil
	})
	return n, err
}

// Ping implements Store; it fails only once m is closed.
func (m *Memory) Ping(context.Context) error {
	if m.closed.Load() {
		return opError("ping", "", errMemoryClosed)
	}
	return nil
}

// Close stops the sweep and closes every Subscription. Calls made after Close
// return an error wrapping ErrUnavailable. Close is idempotent.
func (m *Memory) Close() error {
	if !m.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(m.stop)
	<-m.swept

	m.subMu.Lock()
	subs := m.subs
	m.subs = make(map[string]map[*memorySub]struct{})
	m.subMu.Unlock()
	seen := make(map[*memorySub]struct{})
	for _, set := range subs {
		for sub := range set {
			seen[sub] = struct{}{}
		}
	}
	for sub := range seen {
		_ = sub.Close()
	}
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		clear(s.entries)
		clear(s.volatile)
		clear(s.pairs)
		s.mu.Unlock()
	}
	return nil
}

func (m *Memory) sweepLoop() {
	defer close(m.swept)
	tick := time.NewTicker(memorySweepInterval)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
			m.sweep()
		}
	}
}

// sweep deletes expired keys, visiting only keys that have a TTL and holding
// one shard lock at a time. Pair keys have no TTL index, which would cost a
// map slot per user: it visits every pair of one shard, so an expired pair
// key nobody reads is freed within memoryShards sweeps.
func (m *Memory) sweep() {
	pairs := int((m.pairSweep.Add(1) - 1) % memoryShards)
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		now := m.now()
		for key := range s.volatile {
			s.lookup(key, now)
		}
		if i == pairs {
			for rest, p := range s.pairs {
				for half := range p.e {
					if e := p.e[half]; e.set != noEntry && e.deadline != 0 && e.deadline <= now {
						s.removeHalf(rest, p, half)
					}
				}
			}
		}
		s.mu.Unlock()
	}
}

// Subscribe implements Store. The subscription is active when Subscribe
// returns.
func (m *Memory) Subscribe(_ context.Context, channels ...string) (Subscription, error) {
	if len(channels) == 0 {
		return nil, opError("subscribe", "", errNoChannel)
	}
	sub := &memorySub{m: m, channels: append([]string(nil), channels...), ch: make(chan Message, SubscriptionBuffer)}
	m.subMu.Lock()
	defer m.subMu.Unlock()
	// Checked under subMu: Close sets closed before it takes subMu, so a
	// subscription registered here is always seen and closed by Close.
	if m.closed.Load() {
		return nil, opError("subscribe", channels[0], errMemoryClosed)
	}
	for _, c := range channels {
		set := m.subs[c]
		if set == nil {
			set = make(map[*memorySub]struct{})
			m.subs[c] = set
		}
		set[sub] = struct{}{}
	}
	return sub, nil
}

// Publish implements Store. It never blocks: a subscriber whose buffer is
// full misses the message, which is counted in Dropped.
func (m *Memory) Publish(_ context.Context, channel string, payload []byte) error {
	if m.closed.Load() {
		return opError("publish", channel, errMemoryClosed)
	}
	m.subMu.RLock()
	defer m.subMu.RUnlock()
	set := m.subs[channel]
	if len(set) == 0 {
		return nil
	}
	// One copy, shared by all subscribers: the caller may reuse payload.
	msg := Message{Channel: channel, Payload: append([]byte(nil), payload...)}
	for sub := range set {
		// Sending under the read lock is safe: a subscription's channel is
		// closed only under the write lock, and the send never blocks.
		select {
		case sub.ch <- msg:
		default:
			m.dropped.Add(1)
		}
	}
	return nil
}

// memorySub is a Memory Subscription.
type memorySub struct {
	m        *Memory
	channels []string
	ch       chan Message
	once     sync.Once
}

func (s *memorySub) Messages() <-chan Message { return s.ch }

// Close unregisters s and closes its channel; messages already buffered can
// still be drained. Close is idempotent.
func (s *memorySub) Close() error {
	s.once.Do(func() {
		s.m.subMu.Lock()
		defer s.m.subMu.Unlock()
		for _, c := range s.channels {
			if set := s.m.subs[c]; set != nil {
				delete(set, s)
				if len(set) == 0 {
					delete(s.m.subs, c)
				}
			}
		}
		close(s.ch)
	})
	return nil
}
