// Package live is msgo's event wall module (docs/live.md): wall screens and
// WeChat users in a room (the token's code), messages on the wall with a
// gap-free seq and history, who is online and how many of them are guests,
// moderation (messages held for approval, a word filter), and a lottery.
//
//	stop := live.Register(router, live.Options{DB: gdb, Log: log})
//	defer stop() // after the server stopped
//	// migrations: db.Migrate(ctx, gdb, live.Models()...)
//
// Its methods, pushes, rules, moderation and pages are described in
// docs/live.md; the message pipeline's argument is on service.Messages.
// Everything here is safe for concurrent use.
package live
