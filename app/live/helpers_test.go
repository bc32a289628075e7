package live_test

import (
	"encoding/json"
	"fmt"
	"msgo/app/apptest"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/live"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/db"
)

// quiet is how long a test waits to see that a frame does NOT arrive.
const quiet = 300 * time.Millisecond

// topologies are the node counts tests run on (apptest.Topologies).
var topologies = apptest.Topologies

// eachSetup runs fn on every topology, each on a fresh SQLite and a fresh
// MariaDB database.
func eachSetup(t *testing.T, fn func(t *testing.T, nodes []*msgotest.Server, gdb *gorm.DB)) {
	eachSetupWith(t, live.Options{}, fn)
}

// eachSetupWith is eachSetup with nodes built from o (its DB set per setup).
func eachSetupWith(t *testing.T, o live.Options, fn func(t *testing.T, nodes []*msgotest.Server, gdb *gorm.DB)) {
	apptest.Each(t, live.Models(), func(t *testing.T, stores []cache.Store, gdb *gorm.DB) {
		o.DB = gdb
		nodes := make([]*msgotest.Server, len(stores))
		for i := range nodes {
			nodes[i] = startNodeWith(t, stores[i], fmt.Sprintf("live%d", i+1), o)
		}
		fn(t, nodes, gdb)
	})
}

func migrated(t testing.TB, gdb *gorm.DB) *gorm.DB {
	t.Helper()
	return apptest.Migrated(t, gdb, live.Models()...)
}

// startNodes starts n nodes of one application on gdb: a lone node keeps
// its state in memory, several share a fresh Redis prefix.
func startNodes(t testing.TB, gdb *gorm.DB, n int) []*msgotest.Server {
	t.Helper()
	return startNodesOn(t, gdb, apptest.Stores(t, n))
}

// startNodesOn starts one node per store.
func startNodesOn(t testing.TB, gdb *gorm.DB, stores []cache.Store) []*msgotest.Server {
	t.Helper()
	nodes := make([]*msgotest.Server, len(stores))
	for i := range nodes {
		nodes[i] = startNode(t, gdb, stores[i], fmt.Sprintf("live%d", i+1))
	}
	return nodes
}

// startNode starts one node with the live module on gdb and store (nil: a
// memory store of its own).
func startNode(t testing.TB, gdb *gorm.DB, store cache.Store, id string) *msgotest.Server {
	t.Helper()
	return startNodeWith(t, store, id, live.Options{DB: gdb})
}

func startNodeWith(t testing.TB, store cache.Store, id string, o live.Options) *msgotest.Server {
	t.Helper()
	return msgotest.Start(t, msgotest.Options{
		Modules:     []msgotest.Module{func(r *framework.Router) { t.Cleanup(live.Register(r, o)) }},
		Store:       store,
		Secret:      "live-test-secret",
		NodeID:      id,
		Unavailable: []error{db.ErrUnavailable},
	})
}

func user(id, room string) framework.Identity {
	return framework.Identity{ID: id, Type: framework.TypeWechatUser, Code: room, Nickname: "昵称-" + id}
}

func wall(id, room string) framework.Identity {
	return framework.Identity{ID: id, Type: framework.TypeWall, Code: room, Nickname: "wall-" + id}
}

// on dials id to node i of nodes, round robin.
func on(t testing.TB, nodes []*msgotest.Server, i int, id framework.Identity) *msgotest.Client {
	t.Helper()
	return nodes[i%len(nodes)].Dial(t, id)
}

// join joins cl to its room and returns the reply's online count.
func join(t testing.TB, cl *msgotest.Client) int {
	t.Helper()
	r := cl.Request(t, "live.user.join", nil)
	if r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Info)
	}
	var p struct {
		Room   string
		Online int
	}
	r.Decode(t, &p)
	return p.Online
}

// expect fails unless r has status, and, for an error, an info naming
// each of words.
func expect(t testing.TB, what string, r msgotest.Reply, status int, words ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d (%s), want %d", what, r.Status, r.Info, status)
		return
	}
	for _, w := range words {
		if !strings.Contains(r.Info, w) {
			t.Errorf("%s: info %q does not name %q", what, r.Info, w)
		}
	}
}

// request sends a request and waits for its reply without failing the test,
// for use from goroutines.
func request(t testing.TB, cl *msgotest.Client, method string, params map[string]any) (msgotest.Reply, error) {
	id := cl.Call(t, method, params)
	return cl.Next(msgotest.DefaultTimeout, func(r msgotest.Reply) bool { return string(r.ID) == string(id) })
}

// pushed is a live.message push's param.
type pushed struct {
	Seq      int64  `json:"seq"`
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Content  string `json:"content"`
	Time     int64  `json:"time"`
}

// messages waits for n live.message pushes on cl and returns them in
// arrival order.
func messages(t testing.TB, cl *msgotest.Client, n int) []pushed {
	t.Helper()
	out := make([]pushed, 0, n)
	for len(out) < n {
		r, err := cl.Next(msgotest.DefaultTimeout, msgotest.IsPush("live.message"))
		if err != nil {
			t.Fatalf("live.message %d of %d: %v", len(out)+1, n, err)
		}
		var m pushed
		r.Decode(t, &m)
		out = append(out, m)
	}
	return out
}

// history returns live.message.history's messages.
func history(t testing.TB, cl *msgotest.Client, params map[string]any) []pushed {
	t.Helper()
	r := cl.Request(t, "live.message.history", params)
	if r.Status != 200 {
		t.Fatalf("history %v: %d %s", params, r.Status, r.Info)
	}
	var p struct{ Messages []pushed }
	r.Decode(t, &p)
	if p.Messages == nil {
		t.Fatalf("history %v: messages is %s, want an array", params, r.Param)
	}
	return p.Messages
}

// send sends content and returns the reply's seq.
func send(t testing.TB, cl *msgotest.Client, content string) int64 {
	t.Helper()
	r := cl.Request(t, "live.message.send", map[string]any{"content": content})
	if r.Status != 200 {
		t.Fatalf("send %q: %d %s", content, r.Status, r.Info)
	}
	var p struct{ Seq, Time int64 }
	r.Decode(t, &p)
	if p.Time == 0 {
		t.Fatalf("send reply without time: %s", r.Param)
	}
	return p.Seq
}

func seqsOf(ms []pushed) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// liveRegister registers the live module on gdb with default options.
func liveRegister(r *framework.Router, gdb *gorm.DB) func() {
	return live.Register(r, live.Options{DB: gdb})
}
