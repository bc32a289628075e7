package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"msgo/library/wire"
)

// A reload hands the memory store to the process that replaces this one,
// in two steps so that the clients' pause does not grow with the store:
// a full Snapshot while the old process still serves, then, in the pause,
// a Snapshot of only the shards written to since. Restore loads each shard
// a snapshot carries in place of the one it has.

// snapshotVersion is the first byte of a snapshot; Restore refuses others.
const snapshotVersion = 2

var errSnapshot = errors.New("cache: malformed memory snapshot")

// Gens are the write counts of a Memory's shards as of a Snapshot: the
// next Snapshot given them carries only the shards written to since.
type Gens []uint64

// Snapshot returns the live keys of m with their values or members and
// what is left of their TTLs: every shard's when since is nil, else only
// the shards written to since since was returned. Shards are read one at
// a time, so a write made meanwhile may or may not be in it; it is in the
// next Snapshot given the Gens returned.
func (m *Memory) Snapshot(since Gens) ([]byte, Gens) {
	b := []byte{snapshotVersion}
	b = binary.AppendUvarint(b, memoryShards)
	b = binary.AppendVarint(b, time.Now().UnixMilli())
	gens := make(Gens, memoryShards)
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		gens[i] = s.gen
		if since == nil || since[i] != s.gen {
			b = s.appendSnapshot(b, i, m.now())
		}
		s.mu.Unlock()
	}
	return b, gens
}

// appendSnapshot encodes the shard: its index, its live keys' count, the
// keys. The caller holds s.mu.
func (s *memoryShard) appendSnapshot(b []byte, index int, now time.Duration) []byte {
	b = binary.AppendUvarint(b, uint64(index))
	at := len(b)
	n := 0
	live := func(e memoryEntry) bool { return e.deadline == 0 || e.deadline > now }
	for key, e := range s.entries {
		if live(e) {
			b, n = appendSnapshotEntry(b, key, e, now), n+1
		}
	}
	for rest, p := range s.pairs {
		for half, e := range p.e {
			if e.set != noEntry && live(e) {
				b, n = appendSnapshotEntry(b, pairPrefixes[half]+rest, e, now), n+1
			}
		}
	}
	// The count goes before the keys: counted while encoding (expired keys
	// are left out), then put in front.
	return wire.InsertUvarint(b, at, uint64(n))
}

// appendSnapshotEntry encodes one live key: the key, the TTL left in
// milliseconds plus one (0: none), then 0 and the value, or 1, the member
// count and the members.
func appendSnapshotEntry(b []byte, key string, e memoryEntry, now time.Duration) []byte {
	var ttl uint64
	if e.deadline != 0 {
		ttl = uint64((e.deadline-now)/time.Millisecond) + 1
	}
	b = wire.AppendString(b, key)
	b = binary.AppendUvarint(b, ttl)
	if e.set == nil {
		b = append(b, 0)
		return wire.AppendString(b, e.val)
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(e.setLen()))
	e.setEach(func(x string) { b = wire.AppendString(b, x) })
	return b
}

// Restore loads a Snapshot into m: each shard the snapshot carries
// replaces m's. TTLs count from when the snapshot was taken.
func (m *Memory) Restore(snap []byte) error {
	if len(snap) == 0 || snap[0] != snapshotVersion {
		return fmt.Errorf("%w: unknown version", errSnapshot)
	}
	r := wire.NewReader(snap[1:])
	if n := r.Uvarint(); n != memoryShards {
		return fmt.Errorf("%w: %d shards, this store has %d", errSnapshot, n, memoryShards)
	}
	// The time since the snapshot (the clock is the machine's, and both
	// processes of a reload are on one machine).
	age := time.Duration(max(time.Now().UnixMilli()-r.Varint(), 0)) * time.Millisecond
	for r.Len() > 0 && r.Err() == nil {
		i := r.Uvarint()
		if i >= memoryShards {
			return errSnapshot
		}
		if err := m.restoreShard(&m.shards[i], r, age); err != nil {
			return err
		}
	}
	if r.Err() != nil {
		return errSnapshot
	}
	return nil
}

// restoreShard replaces s's keys with the next shard of r.
func (m *Memory) restoreShard(s *memoryShard, r *wire.Reader, age time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.entries)
	clear(s.volatile)
	clear(s.pairs)
	s.gen++
	for n := r.Count(); n > 0; n-- {
		key, ttl, kind := r.Str(), r.Uvarint(), r.Byte()
		var e memoryEntry
		switch kind {
		case 0:
			e.val = r.Str()
		case 1:
			k := r.Count()
			if k == 0 {
				return errSnapshot
			}
			for range k {
				e.setAdd(r.Str())
			}
		default:
			return errSnapshot
		}
		if r.Err() != nil {
			return errSnapshot
		}
		if ttl > 0 {
			left := time.Duration(ttl-1)*time.Millisecond - age
			if left <= 0 {
				continue
			}
			e.deadline = m.now() + left
		}
		s.put(key, e)
	}
	return nil
}
