package framework

import (
	"context"
	"fmt"
	"strings"
)

// AddCloseKey adds the connection to the cluster-wide set key (member
// node:id) and removes it again when the connection closes, however it
// closes.
func (a *App) AddCloseKey(ctx context.Context, id ConnID, key string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	added, home := false, ""
	if !editHooks(c, func(h *hooks) {
		home = homeOf(h, a.node)
		if !h.list.has(hookCloseKey, equalTo(key)) {
			h.list = h.list.with(hookCloseKey, key)
			added = true
		}
	}) {
		return ErrConnGone
	}
	if !added {
		return nil
	}
	if err := a.closeKeys.AddCloseKey(ctx, key, Addr{home, id}.String()); err != nil {
		a.cluster.Failed("close key", err)
		return err
	}
	return nil
}

// RemoveCloseKey undoes AddCloseKey now.
func (a *App) RemoveCloseKey(ctx context.Context, id ConnID, key string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	home := a.node
	editHooks(c, func(h *hooks) {
		home = homeOf(h, a.node)
		h.list = h.list.without(hookCloseKey, equalTo(key))
	})
	return a.closeKeys.RemoveCloseKey(ctx, key, Addr{home, id}.String())
}

// CloseKeyMembers returns the connections in the close-key set key.
func (a *App) CloseKeyMembers(ctx context.Context, key string) ([]Addr, error) {
	ms, err := a.closeKeys.CloseKeyMembers(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]Addr, 0, len(ms))
	for _, m := range ms {
		if ad, ok := ParseAddr(m); ok {
			out = append(out, ad)
		}
	}
	return out, nil
}

// AddCloseController names a close controller (registered with Router.OnClose)
// to run once when the connection closes.
func (a *App) AddCloseController(id ConnID, name string) error {
	if a.srv.router.closer(name) == nil {
		return fmt.Errorf("framework: no close controller %q", name)
	}
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	if !editHooks(c, func(h *hooks) {
		if !h.list.has(hookController, func(n string) bool { return strings.EqualFold(n, name) }) {
			h.list = h.list.with(hookController, name)
		}
	}) {
		return ErrConnGone
	}
	return nil
}

// RemoveCloseController undoes AddCloseController.
func (a *App) RemoveCloseController(id ConnID, name string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	editHooks(c, func(h *hooks) {
		h.list = h.list.without(hookController, func(n string) bool { return strings.EqualFold(n, name) })
	})
	return nil
}

// The names MSwoole gave these calls, for code ported from PHP, where a
// connection is an fd. They do what the methods they call do.

// FdAddCloseKey is MSwoole's name for AddCloseKey.
func (a *App) FdAddCloseKey(ctx context.Context, id ConnID, key string) error {
	return a.AddCloseKey(ctx, id, key)
}

// FdRemoveCloseKey is MSwoole's name for RemoveCloseKey.
func (a *App) FdRemoveCloseKey(ctx context.Context, id ConnID, key string) error {
	return a.RemoveCloseKey(ctx, id, key)
}

// FdAddController is MSwoole's name for AddCloseController.
func (a *App) FdAddController(id ConnID, name string) error { return a.AddCloseController(id, name) }

// FdRemoveController is MSwoole's name for RemoveCloseController.
func (a *App) FdRemoveController(id ConnID, name string) error {
	return a.RemoveCloseController(id, name)
}
