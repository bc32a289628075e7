package cluster

import (
	"context"
	"sync"

	"msgo/library/cache"
)

// Store's Broker is the cache.Store's publish/subscribe: in memory for one
// node, Redis pub/sub for many.

// Publish implements Broker.
func (s *Store) Publish(ctx context.Context, channel string, payload []byte) error {
	return s.store.Publish(ctx, channel, payload)
}

// Subscribe implements Broker.
func (s *Store) Subscribe(ctx context.Context, channels ...string) (Subscription, error) {
	sub, err := s.store.Subscribe(ctx, channels...)
	if err != nil {
		return nil, err
	}
	fw := &storeSubscription{sub: sub, out: make(chan Message), done: make(chan struct{})}
	go fw.forward()
	return fw, nil
}

// storeSubscription hands a cache.Subscription's messages on.
type storeSubscription struct {
	sub  cache.Subscription
	out  chan Message
	done chan struct{}
	once sync.Once
}

func (s *storeSubscription) forward() {
	defer close(s.out)
	for m := range s.sub.Messages() {
		select {
		case s.out <- Message{Channel: m.Channel, Payload: m.Payload}:
		case <-s.done:
			return
		}
	}
}

func (s *storeSubscription) Messages() <-chan Message { return s.out }

func (s *storeSubscription) Close() error {
	s.once.Do(func() { close(s.done) })
	return s.sub.Close()
}
