package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app"
	"msgo/app/apptest"
	"msgo/framework"
	"msgo/framework/manager"
	"msgo/framework/msgotest"
	"msgo/library/cache"
)

// quiet is how long a test waits to see that a frame does NOT arrive.
const quiet = 300 * time.Millisecond

// startNodes starts one node with every module per store, and a manager
// port on the first.
func startNodes(t *testing.T, gdb *gorm.DB, stores []cache.Store) ([]*msgotest.Server, string) {
	t.Helper()
	nodes := make([]*msgotest.Server, len(stores))
	for i := range nodes {
		nodes[i] = msgotest.Start(t, msgotest.Options{
			Modules: []msgotest.Module{func(r *framework.Router) {
				stop, err := app.Register(r, app.Deps{DB: gdb})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(stop)
			}},
			Store:  stores[i],
			Secret: "app-test-secret",
			NodeID: fmt.Sprintf("app%d", i+1),
		})
	}
	ts := httptest.NewServer(manager.New(manager.Options{Server: nodes[0].Server}))
	t.Cleanup(ts.Close)
	return nodes, ts.URL
}

// sendRoom calls POST /api/send/room and returns data.delivered.
func sendRoom(t *testing.T, mgr, room, event string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"room": room, "event": event, "param": map[string]any{}})
	res, err := http.Post(mgr+"/api/send/room", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a struct {
		Code int
		Data struct{ Delivered int }
	}
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil || a.Code != 200 {
		t.Fatalf("send/room %q: code %d, %v", room, a.Code, err)
	}
	return a.Data.Delivered
}

// A token whose code spells a module's internal group (kefu's agents) joins
// a room of that name and nothing more: it receives no kefu.message, its
// live.message reaches no agent, and neither does a manager room push to
// that name. A room joined through a token code is the same room the
// manager's calls name.
func TestRoomsNeverReachInternalGroups(t *testing.T) {
	apptest.Each(t, app.Models(), func(t *testing.T, stores []cache.Store, gdb *gorm.DB) {
		nodes, mgr := startNodes(t, gdb, stores)
		on := func(i int, id framework.Identity) *msgotest.Client { return nodes[i%len(nodes)].Dial(t, id) }
		agent := on(0, framework.Identity{ID: "a1", Type: framework.TypeKefu, Nickname: "agent"})
		for _, code := range []string{"kefu:agents", "kefu.agents", "i:kefu.agents", "r:kefu.agents"} {
			t.Run(code, func(t *testing.T) {
				spy := on(1, framework.Identity{ID: "spy", Type: framework.TypeWechatUser, Code: code, Nickname: "spy"})
				defer spy.Close()
				if r := spy.Request(t, "live.user.join", nil); r.Status != 200 {
					t.Fatalf("join: %d %s", r.Status, r.Info)
				}
				victim := on(2, framework.Identity{ID: "victim", Type: framework.TypeWechatUser, Nickname: "v"})
				defer victim.Close()
				if r := victim.Request(t, "kefu.chat.send", map[string]any{"msg": "my phone is 555"}); r.Status != 200 {
					t.Fatalf("kefu.chat.send: %d %s", r.Status, r.Info)
				}
				agent.AwaitPush(t, "kefu.message")
				msgotest.NoPush(t, quiet, "kefu.message", "the spy", spy)

				if r := spy.Request(t, "live.message.send", map[string]any{"content": "hello agents"}); r.Status != 200 {
					t.Fatalf("live.message.send: %d %s", r.Status, r.Info)
				}
				spy.AwaitPush(t, "live.message") // the room is real, and the spy is in it
				if n := sendRoom(t, mgr, code, "probe"); n != 1 {
					t.Errorf("send/room %q delivered %d, want 1 (the spy)", code, n)
				}
				spy.AwaitPush(t, "probe")
				msgotest.NoPush(t, quiet, "live.message", "the agent", agent)
				msgotest.NoPush(t, 0, "probe", "the agent", agent)
			})
		}
		t.Run("shared-room", func(t *testing.T) {
			guest := on(1, framework.Identity{ID: "g1", Type: framework.TypeWechatUser, Code: "r1", Nickname: "g"})
			if r := guest.Request(t, "live.user.join", nil); r.Status != 200 {
				t.Fatalf("join: %d %s", r.Status, r.Info)
			}
			if n := sendRoom(t, mgr, "r1", "probe"); n != 1 {
				t.Errorf("send/room r1 delivered %d, want 1", n)
			}
			guest.AwaitPush(t, "probe")
		})
	})
}
