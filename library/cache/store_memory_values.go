package cache

import (
	"context"
	"strconv"
	"time"
)

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
