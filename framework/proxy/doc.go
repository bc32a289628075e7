// Package proxy keeps business logic in an HTTP backend (a PHP application,
// typically): it is a framework.Backend that forwards a connection's
// handshake to {endpoint}/connect, the requests for configured method
// prefixes to {endpoint}/rpc, and every ended connection to
// {endpoint}/disconnect, as docs/proxy.md describes.
//
//	p, err := proxy.New(proxy.Config{Endpoint: "http://127.0.0.1:8080/msgo", Methods: []string{"shop"}, Disconnect: true},
//		proxy.Options{Node: nodeID, Events: proxy.NewSQLEvents(gdb, "")})
//	srv, err := framework.New(framework.Options{..., Backend: p})
//	p.Start(ctx)      // delivers stored disconnect events
//	defer p.Stop()    // after srv.Stop
//
// Concurrency: calls wait on the network in a fixed pool of Config.Workers
// goroutines fed by a queue of Config.Queue calls; a full queue refuses at
// once (503), it never blocks the caller. Disconnect events are stored
// before their first attempt and retried until the backend takes them, by
// one delivery loop per node. Every method is safe for concurrent use.
package proxy
