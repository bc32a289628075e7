package framework

import (
	"context"
	"fmt"
	"strings"
)

// FdAddCloseKey adds the connection to the store set key (member node:fd) and
// removes it again when the connection closes, however it closes.
func (a *App) FdAddCloseKey(ctx context.Context, id ConnID, key string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	added := false
	if !editHooks(c, func(h *hooks) {
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
	if err := a.closeKeys.AddCloseKey(ctx, key, Addr{a.node, id}.String()); err != nil {
		a.cluster.Failed("close key", err)
		return err
	}
	return nil
}

// FdRemoveCloseKey undoes FdAddCloseKey now.
func (a *App) FdRemoveCloseKey(ctx context.Context, id ConnID, key string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	editHooks(c, func(h *hooks) { h.list = h.list.without(hookCloseKey, equalTo(key)) })
	return a.closeKeys.RemoveCloseKey(ctx, key, Addr{a.node, id}.String())
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

// FdAddController names a close controller (registered with Router.OnClose)
// to run once when the connection closes.
func (a *App) FdAddController(id ConnID, name string) error {
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

// FdRemoveController undoes FdAddController.
func (a *App) FdRemoveController(id ConnID, name string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	editHooks(c, func(h *hooks) {
		h.list = h.list.without(hookController, func(n string) bool { return strings.EqualFold(n, name) })
	})
	return nil
}
