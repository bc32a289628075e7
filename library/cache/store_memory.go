package cache

import (
	"context"
	"errors"
	"fmt"
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

	gen uint64 // writes so far, for a reload's second Snapshot
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
	s.gen++
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
	s.gen++
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
	s.gen++
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
