// Package service is the kefu module's delivery: a message is stored, then
// pushed as kefu.message to every agent and to every connection of its
// openid, on every node.
//
//	chat := service.NewChat(model.NewStore(gdb), service.Options{Log: log})
//	defer chat.Close() // after the server stopped
//	router.OnConnect(chat.Connect) // agents join service.AgentsGroup
//
//	m := &model.Message{OpenID: openid, Type: model.TypeUserToAgent, Msg: text}
//	chat.Submit(ctx, app, m, func(err error) {
//		// err != nil: not stored, nothing pushed (503 when db.ErrUnavailable)
//		// else m is stored and pushed: reply {"id": m.ID, "time": m.Time}
//	})
//
// Messages are stored with group commit: those that arrive while a
// transaction runs share the next one (model.Store.InsertAll), so a busy
// chat pays one commit per batch, not per message, and a message is never
// answered before its own transaction committed. Send is the same call for
// a caller that can wait.
//
// Agents are reached through a framework group that every kefu connection
// joins when it connects (framework.Router.OnConnect), not through a list
// of agents kept here: the framework already routes a group push to the
// nodes that have members, encodes it once and forgets a connection when
// it closes.
//
// Concurrency: a Chat is safe for concurrent use. Messages are sharded by
// openid over Options.Writers goroutines, each running one transaction at
// a time and then pushing its messages and calling their done functions in
// the order submitted; so one conversation's messages are numbered, pushed
// and answered in order, and different conversations commit in parallel.
// Pushes to this node's connections are written before done runs; other
// nodes get the frame over the cluster bus without being waited for.
// Submit blocks only while its writer's queue is full.
package service
