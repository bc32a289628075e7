package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"msgo/library/wire"
)

// A reload hands the memory store to the process that replaces this one:
// Snapshot encodes every live key, Restore loads them into an empty Memory.

// snapshotVersion is the first byte of a snapshot; Restore refuses others.
const snapshotVersion = 1

var errSnapshot = errors.New("cache: malformed memory snapshot")

// Snapshot returns every live key of m with its value or members and what
// is left of its TTL. Keys are read one shard at a time, so writes made
// meanwhile may or may not be in it: take it when nothing writes.
func (m *Memory) Snapshot() []byte {
	b := []byte{snapshotVersion}
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		now := m.now()
		for key, e := range s.entries {
			b = appendSnapshotEntry(b, key, e, now)
		}
		for rest, p := range s.pairs {
			for half, e := range p.e {
				if e.set != noEntry {
					b = appendSnapshotEntry(b, pairPrefixes[half]+rest, e, now)
				}
			}
		}
		s.mu.Unlock()
	}
	return b
}

// appendSnapshotEntry encodes one key: the key, the TTL left in
// milliseconds plus one (0: none), then 0 and the value, or 1, the member
// count and the members. An expired key is left out.
func appendSnapshotEntry(b []byte, key string, e memoryEntry, now time.Duration) []byte {
	var ttl uint64
	if e.deadline != 0 {
		if e.deadline <= now {
			return b
		}
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

// Restore loads a Snapshot into m, replacing the keys it names.
func (m *Memory) Restore(snap []byte) error {
	if len(snap) == 0 || snap[0] != snapshotVersion {
		return fmt.Errorf("%w: unknown version", errSnapshot)
	}
	r := wire.NewReader(snap[1:])
	for r.Len() > 0 {
		key, ttl, kind := r.Str(), r.Uvarint(), r.Byte()
		var e memoryEntry
		switch kind {
		case 0:
			e.val = r.Str()
		case 1:
			n := r.Count()
			if n == 0 {
				return errSnapshot
			}
			for range n {
				e.setAdd(r.Str())
			}
		default:
			return errSnapshot
		}
		if r.Err() != nil {
			return errSnapshot
		}
		s := m.shard(key)
		s.mu.Lock()
		if ttl > 0 {
			e.deadline = m.now() + time.Duration(ttl-1)*time.Millisecond
		}
		s.put(key, e)
		s.mu.Unlock()
	}
	return nil
}
