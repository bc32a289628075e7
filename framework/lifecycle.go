package framework

import (
	"context"
	"fmt"

	"msgo/framework/cluster"
)

// userOf returns c's user key ("type:id").
func userOf(c *conn) string { return c.Session().ident.key }

// connected records a new connection's presence.
func (a *App) connected(c *conn) {
	u := userOf(c)
	if !a.hub.AddUser(u, c) {
		return
	}
	// No timer per connection: every store bounds its own operations.
	a.cluster.Failed("presence", a.presence.UserOnline(a.srv.ctx, u))
}

// runConnects runs the router's connect functions for a new connection,
// on its worker before its 101 is written (see ConnectFunc).
func (a *App) runConnects(c *conn) {
	fns := a.srv.router.connects
	if len(fns) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(a.srv.ctx, cluster.StoreOp)
	defer cancel()
	cl := Client{c: c}
	for _, fn := range fns {
		func() {
			defer func() {
				if p := recover(); p != nil {
					a.srv.log.Error("connect function panicked", "conn", c.ID(), "panic", fmt.Sprint(p))
				}
			}()
			fn(ctx, a, cl)
		}()
	}
}

// disconnected undoes everything a closed connection did: its close
// controllers run first (they may still leave groups and count), then its
// remaining groups, close keys and presence go.
func (a *App) disconnected(c *conn, h *hooks) { a.undo(c, h, true) }

// undo forgets c's groups, close keys and presence on this node, running its
// close controllers first when closers is set: a session that moved to
// another node goes on there, so nothing closed.
//
// A session that moved keeps its close keys (the node it went to holds
// them now under the same address) and its route, which that node set.
func (a *App) undo(c *conn, h *hooks, closers bool) {
	addr := Addr{homeOf(h, a.node), c.ID()}.String()
	// Not the server's context: a stop must still undo presence. Hooks run
	// application code, so they get a bound; presence relies on the store's.
	ctx := context.Background()
	cl := Client{c: c}
	if h != nil {
		hctx, cancel := context.WithTimeout(ctx, cluster.StoreOp)
		defer cancel()
		for st := h.streams; st != nil; st = st.next {
			st.cancel()
			a.srv.work.leave()
		}
		for name := range h.list.names(hookController) {
			if closers {
				a.runCloser(hctx, name, cl)
			}
		}
		// Groups a controller already left are no-ops here.
		for g := range h.list.names(hookGroup) {
			a.leave(hctx, c, g)
		}
		for k := range h.list.names(hookCloseKey) {
			if closers {
				a.cluster.Failed("close key", a.closeKeys.RemoveCloseKey(hctx, k, addr))
			}
		}
		if h.resume != nil && h.resume.home != "" {
			a.cluster.Failed("route", a.routes.DropRoute(hctx, addr, a.node, closers))
		}
	}
	u := userOf(c)
	if a.hub.RemoveUser(u, c) {
		a.cluster.Failed("presence", a.presence.UserOffline(ctx, u))
	}
}

func (a *App) runCloser(ctx context.Context, name string, cl Client) {
	fn := a.srv.router.closer(name)
	defer func() {
		if p := recover(); p != nil {
			a.srv.log.Error("close controller panicked", "controller", name, "panic", fmt.Sprint(p))
		}
	}()
	fn(ctx, a, cl)
}
