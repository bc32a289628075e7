// Package kefu is msgo's customer-service module: a persisted chat between
// WeChat users and a team of agents, who claim, transfer and release
// conversations, and a bot that streams answers from a FAQ. Its methods,
// pushes, rules, tables and benchmarks are described in docs/kefu.md.
//
//	stop, err := kefu.Register(router, kefu.Options{DB: gdb, Log: log, FAQ: cfg.Kefu.FAQ, Canned: cfg.Kefu.Canned})
//	if err != nil {
//		return err // the FAQ file named cannot be read or parsed
//	}
//	defer stop() // after the server stopped: waits for bot answers and queued messages
//	// migrations: db.Migrate(ctx, gdb, kefu.Models()...)
//
// The code is split as MSwoole's App/ was: controller (the handlers,
// params and permissions), service (store, then push), model (the chat,
// chat_session and chat_read tables) and bot (the Bot interface and the FAQ
// bot); web holds the agent console and the user's chat (Pages).
//
// Concurrency: handlers run on their connection's worker; messages are
// stored by a few writer goroutines with group commit and pushed from
// there; bot answers stream from a goroutine each. Everything is safe for
// concurrent use.
package kefu
