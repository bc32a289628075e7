// Package msgotest starts an in-process msgo node on an ephemeral port and
// dials real WebSocket clients to it, in the spirit of net/http/httptest.
// Requests go through the real handshake, frames, router, guards and
// middleware, so a module test checks what a client would see.
//
//	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{index.Register}})
//	cl := srv.Dial(t, framework.Identity{ID: "u1", Type: encrypt.TypeWechatUser, Code: "r1"})
//	r := cl.Request(t, "index.index.index", map[string]any{"a": 1}) // waits for the reply with its id
//	if r.Status != 200 { ... }
//	var p struct{ A int }
//	r.Decode(t, &p)
//	push := cl.AwaitPush(t, "live.message") // the next push (no id) of that event
//
// What a test chooses:
//
//   - Modules: each is a func(*framework.Router); a module with
//     dependencies is a closure, for example
//     func(r *framework.Router) { t.Cleanup(live.Register(r, live.Options{DB: gdb})) }
//     with gdb from library/db/dbtest (SQLite, or MySQL when it runs).
//   - Store: a fresh cache.Memory by default; cachetest.Redis(t) for Redis.
//     Several nodes sharing one Store (and Secret) form a cluster in one
//     test process.
//   - Middleware, Config (rate limits, sizes), Unavailable (errors that
//     answer 503).
//
// Tokens: Dial mints one for an identity on the node's secret; Token mints
// one to use by hand (DialURL, Sec-WebSocket-Protocol). Waits: Request,
// AwaitID, Await, AwaitPush and AwaitClose fail the test after
// DefaultTimeout; Call sends without waiting, and Next waits for a match up
// to a timeout of the caller's choosing without failing, to check that
// nothing arrives.
//
// Every node and client is closed by t.Cleanup. A Client is for one test
// goroutine at a time, except that frames are read in the background.
package msgotest
