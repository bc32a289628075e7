package service

import (
	"context"
	"fmt"
	"time"

	"msgo/library/cache"
)

// Lease polling: a node waiting for a room's turn retries SetNX, starting
// fast (a turn of a busy room takes a few milliseconds) and backing off.
const (
	leasePollMin = 100 * time.Microsecond
	leasePollMax = 4 * time.Millisecond
	// leaseRelease bounds the release, which runs after the turn's own
	// deadline may have passed.
	leaseRelease = 2 * time.Second
)

// ErrRoomBusy means a room's turn could not be had or completed before the
// deadline (the node holding it is slow, or died holding it and the lease
// has yet to expire), or too many messages wait on this node. It wraps
// cache.ErrUnavailable, so the request answers 503; nothing was stored.
var ErrRoomBusy = fmt.Errorf("live: room busy: %w", cache.ErrUnavailable)

// lease is a held turn: key set to token with a TTL, by SetNX.
type lease struct {
	store cache.Store
	key   string
	token string
}

// acquire waits for key to be free and takes it for ttl.
func acquire(ctx context.Context, st cache.Store, key, token string, ttl time.Duration) (*lease, error) {
	wait := leasePollMin
	var timer *time.Timer
	for {
		ok, err := st.SetNX(ctx, key, token, ttl)
		if err != nil {
			return nil, fmt.Errorf("live: take turn %s: %w", key, err)
		}
		if ok {
			if timer != nil {
				timer.Stop()
			}
			return &lease{store: st, key: key, token: token}, nil
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("%w: %s: %w", ErrRoomBusy, key, ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, leasePollMax)
	}
}

// release gives the turn back if it is still ours. Get-then-Del is not
// atomic (the Store has no compare-and-delete): if the lease expired and
// another node took it in between, that node's lease is deleted early. With
// a TTL far above a turn's bound that needs a stall of the TTL at exactly
// this point; the unique (room, seq) index still refuses a duplicate seq.
func (l *lease) release() error {
	ctx, cancel := context.WithTimeout(context.Background(), leaseRelease)
	defer cancel()
	v, ok, err := l.store.Get(ctx, l.key)
	if err != nil || !ok || v != l.token {
		return err
	}
	return l.store.Del(ctx, l.key)
}
