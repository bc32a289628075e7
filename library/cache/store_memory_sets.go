package cache

import (
	"context"
	"slices"
	"time"
)

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
		} else if added > 0 {
			s.gen++ // changed in place
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
		} else if removed > 0 {
			s.gen++ // changed in place
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
