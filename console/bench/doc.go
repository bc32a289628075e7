// Package bench is `msgo bench`, a load generator for the msgo protocol
// (docs/protocol.md): it opens authenticated WebSocket connections to a node on
// loopback, drives one scenario, samples the server's RSS and CPU from /proc,
// and prints a table and one JSON line per run.
//
// The console adds it to the root command:
//
//	root.AddCommand(bench.Command())
//
// and a run looks like this (the server in its own process, with its pid):
//
//	msgo bench conns --conns 19000 --join --pid $SERVER_PID
//	msgo bench connect-rate --conns 10000 --concurrency 64 --join --pid $SERVER_PID
//	msgo bench fanout --conns 5000 --room bench --rate 50 --duration 10s --pid $SERVER_PID
//	msgo bench rpc --conns 200 --duration 10s --pid $SERVER_PID
//	msgo bench cluster --url ws://127.0.0.1:9501/ws,ws://127.0.0.1:9511/ws,ws://127.0.0.1:9521/ws \
//	    --manager http://127.0.0.1:9502 --rate 1000 --pid 101,102,103
//
// Scenarios:
//
//   - conns: hold N connections (joined to rooms with --join); RSS per connection.
//   - connect-rate: open N connections with C dialers; connects/s, server CPU per connect.
//   - fanout: N members of one room, pushes through the manager port
//     (/api/send/room) stamped with seq and send time; deliveries/s, loss,
//     duplicates, latency percentiles, server CPU per delivery.
//   - rpc: C connections in a closed request/reply loop; req/s, latency, CPU per request.
//   - cluster: users spread over several nodes, send-to-user through one node's
//     manager to users on the others; cross-node latency.
//
// Limits. Every target must be a loopback address; anything else is refused.
// Each scenario is bounded by --conns, --duration, --timeout and --drain. The
// client needs one file descriptor per connection and so does the server:
// with a per-process limit of 20,000, 19,000 connections fit in a client
// process and in a server process, never in one process holding both sides.
// Connections spread over source addresses 127.0.0.2 and up (--sources), so
// the ephemeral port range of one address is not the limit. Tokens are
// minted with the server's secret before any clock starts.
//
// What a figure includes. Server CPU is utime+stime of the --pid processes
// between two samples, divided by the work done: for fanout it includes the
// manager port's HTTP handling, for connect-rate the handshake, the token
// decryption and the join. On a small machine the client shares the cores
// with the server; --client-cpuprofile shows what the client itself spends.
// RSS per connection is (RSS after - RSS before) / N: run it against a fresh
// server, since memory a server kept from earlier runs is reused and hides
// the growth.
//
// Concurrency. A connection has one reader goroutine with a small bufio
// buffer (--read-buffer); writes to it (pongs, pings from the pool's
// heartbeat, rpc's next request) are serialized by a mutex. Per-connection
// state of a scenario is indexed by the connection's position and written
// only by its reader; shared counters and the latency histogram are atomic.
// Progress lines are written by one goroutine per phase, stopped before the
// table is printed.
package bench
