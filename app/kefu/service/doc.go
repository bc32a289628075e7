// Package service is the kefu module's delivery: a message is stored, then
// pushed as kefu.message to every agent and to every connection of its
// openid, on every node.
//
//	chat := service.NewChat(model.NewStore(gdb), log)
//	router.OnConnect(chat.Connect) // agents join service.AgentsGroup
//	m := model.Message{OpenID: openid, Type: model.TypeUserToAgent, Msg: text}
//	if err := chat.Send(ctx, app, &m); err != nil {
//		return err // not stored, nothing pushed; 503 when db.ErrUnavailable
//	}
//	// reply {"id": m.ID, "time": m.Time}
//
// Agents are reached through a framework group that every kefu connection
// joins when it connects (framework.Router.OnConnect), not through a list
// of agents kept here: the framework already routes a group push to the
// nodes that have members, encodes it once and forgets a connection when
// it closes.
//
// Concurrency: a Chat holds no mutable state and is safe for concurrent
// use. Send runs on the sender's connection worker; pushes to this node's
// connections are written before it returns, other nodes get the frame
// over the cluster bus without being waited for. Messages of one sender
// are therefore pushed in the order they were sent.
package service
