// Package cluster is what msgo's nodes share and how they reach each other:
// the Hub indexing this node's connections by user and group, Presence (who
// is online where, which nodes live), Groups and CloseKeys in the shared
// store, the Node that beats liveness and purges dead nodes, and the Bus that
// carries a push to each node that has targets, once.
//
//	st := cluster.NewStore(store, nodeID)            // Presence, Groups, CloseKeys, Broker
//	bus := cluster.NewBus(st, nodeID, deliver, log, onError)
//	go bus.Run(ctx)
//
// Each concept is a small interface in its own file beside its backend:
// presence.go and presence_store.go, broker.go and broker_store.go. Store
// keeps them in a cache.Store (memory for one node, Redis for many); the
// rest of msgo thinks in these interfaces, not in store keys. The package
// imports neither the transport nor the framework.
//
// Concurrency: everything here is safe for concurrent use; the Hub never
// holds a lock while calling out.
package cluster
