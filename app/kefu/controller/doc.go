// Package controller holds the kefu module's handlers, one type per
// controller of the kefu methods (docs/kefu.md): Chat (send, history, read,
// unread), Session (list, claim, transfer, release), Agent (list), Canned
// (list) and Bot (ask).
//
//	svc := service.NewChat(store, service.Options{Log: log})
//	chat := controller.NewChat(svc, store, 0)
//	r.Handle("kefu.chat.send", chat.Send, framework.Allow(framework.TypeWechatUser, framework.TypeKefu))
//	r.Handle("kefu.session.claim", controller.NewSession(store, svc, 0).Claim, framework.Allow(framework.TypeKefu))
//
// Who may call a method by user type is declared on the route
// (framework.Allow); whose conversation a request is about is decided here:
// a wechatUser's own, an agent's by the openid param. Checks run in this
// order: user type (403), a wechatUser naming another openid (403),
// params (400), then the database (503 when it is out of reach).
//
// Concurrency: Chat and Session hold no mutable state. A handler runs on
// its connection's worker, so one connection's requests are handled one at
// a time, in order; different connections' run in parallel. Two answer
// after their handler returned, on the request's id: kefu.chat.send once
// the message's batch committed (service.Chat.Submit), and kefu.bot.ask,
// whose answer streams from a goroutine of its own, at most a fixed number
// at once per node and per connection; Bot.Close waits for them.
package controller
