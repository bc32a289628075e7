// Package framework is msgo's application layer: the Router that maps
// methods to controllers, the Context a handler sees, dispatch, the guards
// and middleware around every route, and App, the handle controllers and the
// manager port use to reach connections, users and groups cluster-wide.
//
//	r := framework.NewRouter()
//	r.Handle("live.user.join", u.Join, framework.Allow("wechatUser"))
//	r.OnClose("Live.User", u.OnClose)
//	srv, err := framework.New(framework.Options{Config: cfg, Router: r, Store: store, Authenticate: auth})
//	go srv.Serve(ln)
//	defer srv.Stop(ctx, framework.CloseGoingAway, 0)
//
// It sits on two layers and imports them one way: framework/transport moves
// the bytes (sockets, frames, queued output) and calls back once per
// complete message; framework/cluster keeps what the nodes share (the hub of
// users and groups, presence, the bus). Neither imports this package.
//
// Concurrency: routes are registered before New and are read-only after. A
// connection's handlers run on one worker at a time, in arrival order; App's
// methods are safe from any goroutine.
package framework
