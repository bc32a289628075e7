// Package live is msgo's event wall module (docs/live.md):
// wall screens and WeChat users in a room, messages on the wall with a
// gap-free seq and history, who is online, and a lottery.
//
//	stop := live.Register(router, live.Options{DB: gdb, Log: log})
//	defer stop() // after the server stopped
//	// migrations: db.Migrate(ctx, gdb, live.Models()...)
//
// The room is the token's code, verbatim, and is also the framework group
// of its members, so the manager port's /api/send/room reaches them. The
// code is split as MSwoole's App/ was: controller (handlers), service (the
// message pipeline, the lottery draw) and model (live_message, the batch
// writer).
//
// # Messages
//
// A message is stored before its reply and its push, so a client that saw
// seq n and reconnects asks live.message.history for after_seq n. seq is per
// room, strictly increasing, gap-free and cluster-wide, and pushes reach
// every member in seq order on every node. One node at a time takes a
// room's turn (a lease in the store), numbers the messages waiting on that
// node from the room's counter, stores them with one multi-row INSERT
// (shared with other rooms' turns by the group-commit Writer), advances the
// counter, and pushes them; a node taking the turn after another first
// waits for that node's pushes to reach its own connections (App.Sync).
// Messages arriving while a turn runs go together in the next one, so a busy
// room costs one lease, one INSERT and a few store round trips per batch,
// not per message. See service.Messages for the whole argument.
//
// Gaps: the counter holds the last stored seq and moves only after a
// store, so a failed INSERT (503, nothing pushed) leaves no hole; the next
// message takes the same seq. A counter lost with the store is seeded from
// MAX(seq) with SetNX; one left behind the table is detected by the unique
// (room, seq) index and reseeded. What can still happen: an INSERT that
// committed but whose answer was lost (the connection dropped at that
// moment) answers 503 though the message is stored, and shows up in
// history without having been pushed; and a counter ahead of the table
// (only if rows were deleted behind msgo's back) makes a gap: delete the
// live:seq:<room> key then.
//
// # Decisions where the protocol is silent
//
//   - A token with an empty code cannot join: 403 (the identity is at
//     fault, not a param). So can't a code or user id over 64 characters,
//     which the table cannot store.
//   - Checks run in this order: the route's user types (403), joined (403),
//     then params (400). Params are strictly typed: "5" for an integer
//     param is 400, like 1.5; JSON null counts as absent (the default, or
//     400 "is required" for content and count). after_seq must be 0 or more.
//   - Joining again on a joined connection answers {room, online} and
//     pushes nothing. Each connection's join and leave is pushed to the
//     room's walls (a user's second device too); a wall also joins the group
//     service.WallsGroup(room) for that. online counts distinct users: one
//     cluster-wide set per room, so a join counts with one SCARD. The leaver
//     does not get its own live.user.leave: it is out of the room by then.
//   - live.room.count {"online"} reaches every member at most once a second
//     while the count changes (service.Counts: a timer per room with
//     changes; the node that takes the room's one-second lease counts once
//     and pushes to the whole room through the cluster).
//   - A disconnect of a joined connection runs the Live.User close
//     controller and pushes live.user.leave once; after live.user.leave the
//     controller is unregistered, so the disconnect pushes nothing more. A
//     node that dies pushes nothing for its connections; the cluster purges
//     them.
//   - live.room.online: limit 1..1000, default 100; users ordered by type,
//     then id; online is the whole room's count whatever the limit.
//   - live.wall.lottery: count has no upper bound; winners come in draw
//     order (math/rand/v2); with nobody eligible the reply and the push
//     carry "winners":[]. The push follows the reply.
//   - Replies' info is "success". A message's time is taken when its turn
//     numbers it (messages of one turn share it); seq, not time, is the
//     order. Nicknames over 64 characters are clipped when stored, and the
//     push carries the stored one.
//   - A push that fails after the message was stored is logged and the
//     sender still gets 200: the message is stored, history has it.
//   - Outages: the database down answers 503 to send and history; the store
//     down answers 503 to join, leave, online, lottery and send (the turn
//     and the counter live in the store), and history still works. A join that fails
//     is undone; a leave that fails has still taken the connection out of
//     the room on this node. A node that dies holding a room's turn blocks
//     that room's sends until the lease expires (30 s); sends waiting longer
//     than 5 s answer 503.
//
// # Concurrency
//
// Handlers run on their connection's worker. live.message.send does not
// wait there for its turn: it queues the message and returns, and the
// answer (framework Stream.Reply, or Stream.Fail with 503) follows once the
// turn has stored and pushed it, so a busy room never ties up the node's
// workers. Each room with messages waiting has one goroutine per node; it
// exits when the room is idle. At most 10,000 messages of one room wait on
// one node; past that a send answers 503 at once. Register's stop waits for
// the messages already queued. Everything here is safe for concurrent use.
//
// # Benchmarks
//
// BenchmarkSendFanout: one node (memory store), a room of 5,000 member
// connections (raw clients read by epoll loops in the same process), 20 or
// 200 members sending live.message.send in a closed loop, one request in
// flight each; deliveries/s counts pushes read by members, latency is from
// a send to its push being read (sampled on every 50th member). On a shared
// 2-CPU VM at load average about 2, Go 1.26, MariaDB 10.11 on the same host,
// with the framework's flusher lanes (a room push is queued on each member and
// written by one lane per core):
//
//	go test -run '^$' -bench BenchmarkSendFanout -benchtime 20000x ./app/live/
//
//	                      deliveries/s   msgs/s   p50      p99
//	sqlite, 20 senders    1,129,000       226     102 ms   177 ms
//	sqlite, 200 senders   6,861,000     1,372     175 ms   292 ms
//	mysql,  20 senders      923,000       185     125 ms   192 ms
//	mysql,  200 senders   6,730,000     1,346     169 ms   261 ms
//
// (Before the lanes, when one goroutine wrote a whole room, the same run at
// load 3 to 8 gave 617,000 / 7,199,000 / 807,000 / 6,381,000.) The cost is
// the fan-out, not the database: a turn's run of messages goes to each member
// as one write (framework.Concat), so a turn costs about one write per member
// whatever its length, throughput grows with the load, and latency is mostly
// the wait for the turn in progress; storing a run is one INSERT of a few
// milliseconds.
package live
