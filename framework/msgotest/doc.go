// Package msgotest starts an in-process msgo node on an ephemeral port and
// dials real WebSocket clients to it, in the spirit of net/http/httptest.
//
//	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{index.Register}})
//	cl := srv.Dial(t, framework.Identity{ID: "u1", Type: "wechatUser", Code: "r1"})
//	r := cl.Request(t, "index.index.index", map[string]any{"a": 1})
//	if r.Status != 200 { ... }
//	push := cl.Await(t, "live.message")
//
// Several nodes sharing one Store (a cache.Memory, or cachetest.Redis) form a
// cluster in one test process. Every node and client is closed by t.Cleanup.
// A Client is for one test goroutine at a time, except that frames are read
// in the background.
package msgotest
