// Package kefu is msgo's customer-service module (docs/kefu.md):
// a persisted chat between WeChat users and the agents, and a bot
// that streams answers from a FAQ. It replaces what PHP teams built on
// Swoole with an openid => fd map in Redis and raw SQL inserts.
//
//	stop, err := kefu.Register(router, kefu.Options{DB: gdb, Log: log, FAQ: cfg.Kefu.FAQ})
//	if err != nil {
//		return err // the FAQ file named cannot be read or parsed
//	}
//	defer stop() // after the server stopped: waits for bot answers
//	// migrations: db.Migrate(ctx, gdb, kefu.Models()...)
//
// The code is split as MSwoole's App/ was: controller (the handlers,
// params and permissions), service (store, then push), model (the chat
// and chat_session tables) and bot (the Bot interface and the FAQ bot).
//
// # Delivery
//
// A message is stored before anything else happens: the reply carries the
// stored row's id and time, and the kefu.message push carries the stored
// message. The push goes to every agent connection and every connection
// of the message's openid, on every node, the sender's own connection
// included (a client adds a message once by its id). Agents are found
// through the internal group service.AgentsGroup (not a room: no token code
// or room name reaches it), which every kefu connection joins when it connects (framework.Router.OnConnect, before its 101), so
// an agent receives messages without having called anything first. A user
// who was offline finds the agents' messages in kefu.chat.history and
// kefu.chat.unread when back.
//
// Messages are stored with group commit (service.Chat): the messages that
// arrive while a transaction runs share the next one, one multi-row INSERT
// and one commit for up to 256 messages, so a busy chat is not bound by
// the database's flush per commit. kefu.chat.send does not hold a worker
// while it waits: it queues the message and returns, and the reply follows
// on the request's id once the message is stored and pushed. Writers are
// sharded by openid, so one conversation's messages are stored, numbered,
// pushed and answered in the order they were sent.
//
// # Decisions where the protocol is silent
//
//   - Order of checks: the route's user types (403), a wechatUser naming
//     an openid that is not its own (403; naming its own is allowed),
//     params (400), the database (503). Params are strictly typed: "5"
//     for an integer is 400, like 1.5; JSON null counts as absent.
//   - openid (agents) is 1 to 64 characters, the column's width; a
//     wechatUser whose token id is longer cannot chat (403).
//   - msg and the bot's message are 1 to 2000 characters, counted as code
//     points, stored and returned byte for byte (no trimming, HTML is not
//     escaped); whitespace-only text is a message like any other.
//   - before_id and up_to_id are message ids: integers of 1 or more.
//     up_to_id is required (the table lists no default); kefu.chat.read
//     marks only the other side's messages and pushes nothing (the
//     protocol lists no read receipt), so other agents' consoles learn of
//     it from their next kefu.chat.unread or kefu.session.list.
//   - kefu.session.list: limit 1..100, default 50. kefu.chat.unread for an
//     agent lists the users with unread messages ordered by openid; an
//     openid param is ignored there.
//   - kefu.chat.send's reply follows the push; a push that fails after the
//     message was stored (the store down) is logged, and the sender still
//     gets 200: history has it. An agent writing to several users at once
//     may get its replies in another order than it sent (they are
//     matched by id); replies about one conversation keep their order.
//   - A message still waiting for its transaction after Options.Timeout
//     (5 s), or whose sender disconnects meanwhile, is not stored (503 to
//     a sender still there); one whose transaction started waits for it.
//     Other database calls also answer 503 past the timeout. A write
//     whose commit was lost at that moment may be stored though it
//     answered 503; it then shows in history, unpushed.
//   - kefu.bot.ask: message and session_id (1 to 128 characters) are
//     required. The answer streams as kefu.bot frames, each with the
//     request's id, {"session_id","message":"<chunk>","complete":false};
//     the last frame has an empty message and "complete":true. A bot that
//     fails ends its answer with an apology and the complete frame; a
//     client that leaves gets nothing more and the bot is stopped (its
//     context is cancelled). At most 1000 answers stream at once per node
//     (more: 503) and 3 per connection (more: 429). The bot's questions
//     and answers are not stored in chat: they are not a conversation
//     with the agents.
//   - The built-in bot reads the FAQ file named by kefu.faq in
//     config/app.yaml or MSGO_KEFU_FAQ (YAML, or JSON for .json files);
//     without one it uses the FAQ embedded from bot/faq.yaml. A file that
//     cannot be read or parsed stops the start rather than silently
//     answering from the built-in one.
//
// # Concurrency
//
// Handlers run on their connection's worker, so one connection's requests
// are handled in order. Four writer goroutines store messages (one
// transaction each at a time) and push them; bot answers stream from a
// goroutine each. Everything in the module is safe for concurrent use;
// Register's stop waits for bot answers still streaming, which end when
// the server stops, and for the writers to store what is queued.
//
// # Benchmarks
//
// Measured on the development machine (2 vCPUs, AMD EPYC, shared with
// other work: load average 5 to 10 during the runs, so figures vary by 2x
// from run to run), MariaDB 10.11 with durable commits
// (innodb_flush_log_at_trx_commit=1) on the same machine, clients in the
// benchmark's own process over loopback.
//
// Chat messages per second end to end, 1,000 users sending at once
// (closed loop) and 20 agents, an op being one message stored and pushed
// to all 20 agents and the user:
//
//	go test -run '^$' -bench Chat -benchtime 20000x -count 3 ./app/kefu
//
//	MariaDB, one node                        3,300 to 6,400 msgs/s
//	MariaDB, users and agents on two nodes   2,600 to 5,400 msgs/s (Redis)
//	SQLite, one node                         2,500 to 5,600 msgs/s
//	SQLite, two nodes                        2,200 to 5,000 msgs/s
//
// (five runs each, over two sessions). With a commit and a push per message (service.Options.MaxBatch 1)
// the one-node runs gave 920 to 980 msgs/s on MariaDB and 520 to 610 on
// SQLite, at a moment of the same load. What gets there: group commit
// (one INSERT and one commit for a batch), replies that do not hold a
// worker (so batches fill), and a batch pushed as runs of frames
// (framework.Concat: one write per agent connection and one bus message
// per node for many messages). An op allocates about 28 KB in 280
// allocations, over half of it in the 21 in-process clients reading and
// decoding their copies; they also take half the CPU profile, where the
// writers (store and push) take a tenth: the figures say as much about the
// benchmark's clients sharing two cores with the node as about the node.
//
// kefu.chat.history over the socket, one client, limit 20, on 1,000,000
// messages over 10,000 users (modeltest.Seed; BenchmarkQueries in
// app/kefu/model measures the queries alone):
//
//	MSGO_BENCH_SEED=1 go test -run '^$' -bench History ./app/kefu
//
//	                                  MariaDB          SQLite
//	agent, a random user's newest     0.9 to 1.1 ms    0.55 to 0.87 ms
//	agent, a random page (before_id)  1.7 to 1.8 ms    0.60 to 0.77 ms
//	user, own newest                  0.5 to 0.6 ms    0.40 to 0.64 ms
//
// (two runs; about 25 KB and 400 to 500 allocations per request, client
// included). The table and its indexes are about the size of MariaDB's
// 128 MB buffer pool, so a random page is likely to be read from disk.
package kefu
