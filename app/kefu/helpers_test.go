package kefu_test

import (
	"encoding/json"
	"fmt"
	"msgo/app/apptest"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/kefu"
	"msgo/app/kefu/model"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/db"
)

// quiet is how long a test waits to see that a frame does NOT arrive.
const quiet = 300 * time.Millisecond

// testFAQ streams quickly, so bot tests get whole answers in little time;
// the answer to "long" takes minutes, for tests that leave mid-stream.
var testFAQ = `
chunk: 3
delay: 2ms
fallback: "Sorry, no idea."
faq:
  - keywords: [refund*, 退款]
    answer: "Refunds reach you within 3 days. 退款三天内到账。"
  - keywords: [long]
    answer: "` + strings.Repeat("and on ", 100_000) + `"
`

// testCanned are the nodes' canned replies.
var testCanned = []string{"您好，请问有什么可以帮您？", "Hello! How can I help you today?"}

// topologies are the node counts tests run on (apptest.Topologies).
var topologies = apptest.Topologies

// eachSetup runs fn on every topology, each on a fresh SQLite and a fresh
// MariaDB database.
func eachSetup(t *testing.T, fn func(t *testing.T, nodes []*msgotest.Server, gdb *gorm.DB)) {
	apptest.Each(t, kefu.Models(), func(t *testing.T, stores []cache.Store, gdb *gorm.DB) {
		fn(t, startNodesOn(t, gdb, stores, framework.Config{}), gdb)
	})
}

func migrated(t testing.TB, gdb *gorm.DB) *gorm.DB {
	t.Helper()
	return apptest.Migrated(t, gdb, kefu.Models()...)
}

// startNodes starts n nodes of one application on gdb: a lone node keeps
// its state in memory, several share a fresh Redis prefix.
func startNodes(t testing.TB, gdb *gorm.DB, n int) []*msgotest.Server {
	t.Helper()
	return startNodesConfig(t, gdb, n, framework.Config{})
}

// startNodesConfig is startNodes with the connection layer's settings.
func startNodesConfig(t testing.TB, gdb *gorm.DB, n int, cfg framework.Config) []*msgotest.Server {
	t.Helper()
	return startNodesOn(t, gdb, apptest.Stores(t, n), cfg)
}

// startNodesOn starts one node per store.
func startNodesOn(t testing.TB, gdb *gorm.DB, stores []cache.Store, cfg framework.Config) []*msgotest.Server {
	t.Helper()
	nodes := make([]*msgotest.Server, len(stores))
	for i := range nodes {
		nodes[i] = startNodeConfig(t, kefu.Options{DB: gdb, Canned: testCanned}, stores[i], fmt.Sprintf("kefu%d", i+1), cfg)
	}
	return nodes
}

// startNode starts one node with the kefu module built from o (the test
// FAQ unless o names a bot or a FAQ) on store (nil: a memory store of its
// own).
func startNode(t testing.TB, o kefu.Options, store cache.Store, id string) *msgotest.Server {
	t.Helper()
	return startNodeConfig(t, o, store, id, framework.Config{})
}

// startNodeConfig is startNode with the connection layer's settings.
func startNodeConfig(t testing.TB, o kefu.Options, store cache.Store, id string, cfg framework.Config) *msgotest.Server {
	t.Helper()
	if o.Bot == nil && o.FAQ == "" {
		o.FAQ = writeFAQ(t, testFAQ)
	}
	return msgotest.Start(t, msgotest.Options{
		Modules: []msgotest.Module{func(r *framework.Router) {
			stop, err := kefu.Register(r, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(stop)
		}},
		Store:       store,
		Secret:      "kefu-test-secret",
		NodeID:      id,
		Config:      cfg,
		Unavailable: []error{db.ErrUnavailable},
	})
}

func writeFAQ(t testing.TB, content string) string {
	t.Helper()
	path := t.TempDir() + "/faq.yaml"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func user(openid string) framework.Identity {
	return framework.Identity{ID: openid, Type: framework.TypeWechatUser, Nickname: "用户-" + openid}
}

func agent(id string) framework.Identity {
	return framework.Identity{ID: id, Type: framework.TypeKefu, Nickname: "客服-" + id}
}

// on dials id to node i of nodes, round robin.
func on(t testing.TB, nodes []*msgotest.Server, i int, id framework.Identity) *msgotest.Client {
	t.Helper()
	return nodes[i%len(nodes)].Dial(t, id)
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

// call sends a request and returns its reply's param, failing the test
// unless the status is 200.
func call(t testing.TB, cl *msgotest.Client, method string, params map[string]any, into any) {
	t.Helper()
	r := cl.Request(t, method, params)
	if r.Status != 200 {
		t.Fatalf("%s %v: %d %s", method, params, r.Status, r.Info)
	}
	if r.Event != method {
		t.Fatalf("%s: reply event %q", method, r.Event)
	}
	if into != nil {
		r.Decode(t, into)
	}
}

// send sends msg (to openid, for an agent; pass "" for a user) and returns
// the message as the reply describes it.
func send(t testing.TB, cl *msgotest.Client, openid, msg string) model.Message {
	t.Helper()
	params := map[string]any{"msg": msg}
	if openid != "" {
		params["openid"] = openid
	}
	var p struct {
		ID   int64 `json:"id"`
		Time int64 `json:"time"`
	}
	call(t, cl, "kefu.chat.send", params, &p)
	if p.ID < 1 || p.Time < 1 {
		t.Fatalf("send reply %+v: want id and time", p)
	}
	return model.Message{ID: p.ID, Msg: msg, Time: p.Time}
}

// pushed waits for the next kefu.message push on cl.
func pushed(t testing.TB, cl *msgotest.Client) model.Message {
	t.Helper()
	r, err := cl.Next(msgotest.DefaultTimeout, msgotest.IsPush("kefu.message"))
	if err != nil {
		t.Fatalf("kefu.message: %v", err)
	}
	var m model.Message
	r.Decode(t, &m)
	return m
}

// history returns kefu.chat.history's messages.
func history(t testing.TB, cl *msgotest.Client, params map[string]any) []model.Message {
	t.Helper()
	var p struct{ Messages []model.Message }
	call(t, cl, "kefu.chat.history", params, &p)
	if p.Messages == nil {
		t.Fatalf("history %v: messages is not an array", params)
	}
	return p.Messages
}

func idsOf(ms []model.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
