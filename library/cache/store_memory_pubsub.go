package cache

import (
	"context"
	"sync"
)

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
