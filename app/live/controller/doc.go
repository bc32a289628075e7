// Package controller holds the live module's handlers, one type per
// controller of the live methods (docs/live.md): User (join, leave and the
// Live.User close controller), Message (send, history), Room (online), Wall
// (lottery) and Moderation (pending, approve, reject). Who may call a method
// by user type is declared on the route (framework.Allow); "must join first"
// is checked here, against the connection's groups.
//
//	u := controller.NewUser(log)
//	r.Handle("live.user.join", u.Join, framework.Allow(framework.TypeWechatUser, framework.TypeWall))
//	r.OnClose(controller.CloseController, u.OnClose)
//
// Concurrency: the controllers hold no mutable state; a handler runs on its
// connection's worker, so one connection's requests are handled one at a
// time, while different connections' run in parallel.
package controller
