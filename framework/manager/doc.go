// Package manager serves msgo's manager port: the HTTP API a backend uses to
// push to connected clients, look up presence and kick users, plus the
// Prometheus metrics, health probes and (optionally) pprof of the node.
// docs/manager-api.md is its reference.
//
//	if err := manager.CheckBind(cfg.Manager.Listen, cfg.Manager.Token); err != nil {
//		return err
//	}
//	h := manager.New(manager.Options{
//		Server:  srv, // a *framework.Server
//		Token:   cfg.Manager.Token,
//		Version: version,
//		Ready:   func(ctx context.Context) error { return errors.Join(store.Ping(ctx), db.Ping(ctx)) },
//		Pprof:   cfg.Manager.Pprof,
//	})
//	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
//	go hs.Serve(ln)
//
// Every answer is {"code","message","data"} with code equal to the HTTP
// status. Every path needs "Authorization: Bearer <token>" except /healthz
// and /readyz; the token is checked before the path, so without it every
// other path answers 401, known or not. With no token configured, only
// loopback peers are served. Bodies are JSON objects of at most MaxBodyBytes.
//
// Choices where the protocol is silent:
//   - ids, exclude_id and room accept a string or a JSON integer (read as its
//     decimal text), as auth tokens do.
//   - notify and data-update go to everyone when neither ids nor room is
//     given; an empty ids list goes to nobody (delivered 0), so a backend whose
//     recipient list came out empty never broadcasts by accident. Giving both
//     ids and room is a 400.
//   - send calls accept an optional info, the frame's "info".
//   - param must be a JSON object; data-update's data may be any JSON value.
//   - A push that fails part-way (the store or bus went down) answers 503
//     (500 for anything else) with data.delivered still counting the
//     connections it reached.
//   - /api/status answers 200 even when the store is down, with the local
//     figures and cluster_error.
//
// Concurrency: a Manager is immutable after New and safe for concurrent use;
// each call runs on its HTTP server goroutine, bounded by a 10 s timeout. A
// call naming many users pushes to at most 16 of them at once.
package manager
