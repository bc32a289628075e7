package manager_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/manager"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/cache/cachetest"
	"msgo/library/encrypt"
)

// cluster is two nodes with clients spread over both, and a manager on each.
//
//	n1: u1/wechatUser, w1/wall (room r1), u3/wechatUser
//	n2: u1/wechatUser (second device), u2/wechatUser (room r1), u1/kefu, 42/wechatUser
type cluster struct {
	n1, n2   *msgotest.Server
	m1, m2   *api
	clients  map[string]*msgotest.Client
	open     []string // clients not closed yet, in a fixed order
	settling int
}

func startCluster(t *testing.T, s1, s2 cache.Store) *cluster {
	c := &cluster{n1: startNode(t, "n1", s1), n2: startNode(t, "n2", s2), clients: map[string]*msgotest.Client{}}
	c.m1, c.m2 = serve(t, c.n1, manager.Options{}), serve(t, c.n2, manager.Options{})
	for _, p := range []struct {
		name string
		srv  *msgotest.Server
		id   string
		typ  string
		room string
	}{
		{"u1@n1", c.n1, "u1", encrypt.TypeWechatUser, ""},
		{"w1@n1", c.n1, "w1", encrypt.TypeWall, "r1"},
		{"u3@n1", c.n1, "u3", encrypt.TypeWechatUser, ""},
		{"u1@n2", c.n2, "u1", encrypt.TypeWechatUser, ""},
		{"u2@n2", c.n2, "u2", encrypt.TypeWechatUser, "r1"},
		{"k:u1@n2", c.n2, "u1", encrypt.TypeKefu, ""},
		{"42@n2", c.n2, "42", encrypt.TypeWechatUser, ""},
	} {
		cl := dial(t, p.srv, p.id, p.typ)
		if p.room != "" {
			if r := cl.Request(t, "test.room.join", map[string]any{"room": p.room}); r.Status != 200 {
				t.Fatalf("%s join: %+v", p.name, r)
			}
		}
		c.clients[p.name] = cl
		c.open = append(c.open, p.name)
	}
	return c
}

// settle broadcasts a marker through m1 and waits for it on every open
// client. A send call returns once every node has queued its frames, and a
// connection's frames arrive in order, so what a client received before the
// marker is everything the calls before it sent: settle returns those
// frames' events by client.
func (c *cluster) settle(t *testing.T) map[string][]msgotest.Reply {
	t.Helper()
	c.settling++
	marker := map[string]any{"n": c.settling}
	if n := c.m1.delivered(t, "/api/broadcast", map[string]any{"event": "test.marker", "param": marker}); n != len(c.open) {
		t.Fatalf("marker %d reached %d connections, want %d", c.settling, n, len(c.open))
	}
	want := fmt.Sprintf(`{"n":%d}`, c.settling)
	got := map[string][]msgotest.Reply{}
	for _, name := range c.open {
		cl := c.clients[name]
		cl.AwaitMatch(t, "marker "+want+" on "+name, func(r msgotest.Reply) bool {
			return r.Event == "test.marker" && string(r.Param) == want
		})
		if fs := cl.Frames(); len(fs) > 0 {
			got[name] = fs
		}
	}
	return got
}

// expect checks that exactly the named clients received one frame each, all
// with event, and returns one of them.
func (c *cluster) expect(t *testing.T, what, event string, names ...string) msgotest.Reply {
	t.Helper()
	got := c.settle(t)
	var one msgotest.Reply
	for _, name := range names {
		fs := got[name]
		if len(fs) != 1 || fs[0].Event != event || fs[0].Status != 200 || fs[0].ID != nil {
			t.Errorf("%s: %s received %+v, want one %s push", what, name, fs, event)
			continue
		}
		one = fs[0]
		delete(got, name)
	}
	for name, fs := range got {
		t.Errorf("%s: %s received %+v, want nothing", what, name, fs)
	}
	if t.Failed() {
		t.FailNow()
	}
	return one
}

func TestSendCallsAcrossNodesMemory(t *testing.T) {
	s := memoryStore(t)
	testSendCalls(t, s, s)
}

func TestSendCallsAcrossNodesRedis(t *testing.T) {
	stores := cachetest.RedisNodes(t, 2)
	testSendCalls(t, stores[0], stores[1])
}

func testSendCalls(t *testing.T, s1, s2 cache.Store) {
	c := startCluster(t, s1, s2)
	all := slices.Clone(c.open)
	m1, m2 := c.m1, c.m2

	send := func(m *api, path string, body map[string]any, want int, event string, names ...string) msgotest.Reply {
		t.Helper()
		if n := m.delivered(t, path, body); n != want {
			t.Fatalf("%s %v: delivered %d, want %d", path, body, n, want)
		}
		return c.expect(t, path, event, names...)
	}

	// send/user: every device of the user on both nodes, from either node.
	r := send(m1, "/api/send/user", map[string]any{"id": "u1", "type": "wechatUser", "event": "e.user", "param": map[string]any{"a": 1}, "info": "hi"},
		2, "e.user", "u1@n1", "u1@n2")
	if string(r.Param) != `{"a":1}` || r.Info != "hi" {
		t.Fatalf("send/user frame: %+v", r)
	}
	send(m2, "/api/send/user", map[string]any{"id": "u1", "event": "e.any", "param": map[string]any{}},
		3, "e.any", "u1@n1", "u1@n2", "k:u1@n2")
	send(m1, "/api/send/user", map[string]any{"id": 42, "event": "e.num", "param": map[string]any{}}, 1, "e.num", "42@n2")
	send(m1, "/api/send/user", map[string]any{"id": "nobody", "event": "e.none", "param": map[string]any{}}, 0, "e.none")
	send(m1, "/api/send/user", map[string]any{"id": "u3", "type": "wall", "event": "e.none", "param": map[string]any{}}, 0, "e.none")

	// send/users: each user once, however often listed.
	send(m1, "/api/send/users", map[string]any{"ids": []any{"u1", "u2", "u1", "nobody", 42}, "type": "wechatUser", "event": "e.users", "param": map[string]any{"b": true}},
		4, "e.users", "u1@n1", "u1@n2", "u2@n2", "42@n2")

	// broadcast, with and without an excluded user id (every type of it).
	send(m2, "/api/broadcast", map[string]any{"event": "e.all", "param": map[string]any{}}, 7, "e.all", all...)
	send(m1, "/api/broadcast", map[string]any{"event": "e.but", "param": map[string]any{}, "exclude_id": "u1"},
		4, "e.but", "w1@n1", "u3@n1", "u2@n2", "42@n2")

	// send/room: members only, on both nodes.
	send(m1, "/api/send/room", map[string]any{"room": "r1", "event": "e.room", "param": map[string]any{"x": "y"}}, 2, "e.room", "w1@n1", "u2@n2")
	send(m1, "/api/send/room", map[string]any{"room": "r2", "event": "e.room", "param": map[string]any{}}, 0, "e.room")

	// notify: to ids, or everyone.
	before := time.Now().UnixMilli()
	r = send(m1, "/api/notify", map[string]any{"title": "T", "message": "M", "level": "warning", "ids": []string{"u3", "u2"}},
		2, manager.EventNotice, "u3@n1", "u2@n2")
	var n struct {
		Title, Message, Level string
		Time                  int64
	}
	r.Decode(t, &n)
	if n.Title != "T" || n.Message != "M" || n.Level != "warning" || n.Time < before || n.Time > time.Now().UnixMilli() {
		t.Fatalf("system.notice param %s", r.Param)
	}
	if !strings.Contains(string(r.Param), `"time":`) || strings.Count(string(r.Param), ":") != 4 {
		t.Fatalf("system.notice param keys %s", r.Param)
	}
	send(m2, "/api/notify", map[string]any{"title": "T", "message": "M", "level": "info"}, 7, manager.EventNotice, all...)
	send(m2, "/api/notify", map[string]any{"title": "T", "message": "M", "level": "info", "ids": []string{}}, 0, manager.EventNotice)

	// data-update: to ids, a room, or everyone.
	r = send(m1, "/api/data-update", map[string]any{"room": "r1", "resource_type": "order", "action": "update", "data": map[string]any{"id": 7}},
		2, manager.EventDataUpdate, "w1@n1", "u2@n2")
	if string(r.Param) != `{"resource_type":"order","action":"update","data":{"id":7}}` {
		t.Fatalf("data.update param %s", r.Param)
	}
	send(m1, "/api/data-update", map[string]any{"ids": []any{42, "u3"}, "resource_type": "order", "action": "delete", "data": nil},
		2, manager.EventDataUpdate, "42@n2", "u3@n1")
	send(m2, "/api/data-update", map[string]any{"resource_type": "cfg", "action": "reload", "data": []int{1, 2}}, 7, manager.EventDataUpdate, all...)

	// Presence, cluster-wide. Other nodes' connection counts come with
	// their heartbeat, so the count is polled.
	eventually(t, "online/count", func() (bool, string) {
		var cnt struct{ Connections, Users int }
		m1.get(t, "/api/online/count", &cnt)
		return cnt.Connections == 7 && cnt.Users == 6, fmt.Sprintf("%+v", cnt)
	})
	var users struct {
		Users []framework.UserRef `json:"users"`
		Count int                 `json:"count"`
	}
	m2.get(t, "/api/online/users", &users)
	wantUsers := []framework.UserRef{ref("u1", "kefu"), ref("w1", "wall"), ref("42", "wechatUser"), ref("u1", "wechatUser"), ref("u2", "wechatUser"), ref("u3", "wechatUser")}
	if users.Count != 6 || !slices.Equal(users.Users, wantUsers) {
		t.Fatalf("online/users = %+v", users)
	}
	m1.get(t, "/api/online/users?type=kefu", &users)
	if users.Count != 1 || !slices.Equal(users.Users, []framework.UserRef{ref("u1", "kefu")}) {
		t.Fatalf("online/users?type=kefu = %+v", users)
	}
	check := func(m *api, query string, want bool) {
		t.Helper()
		var ans struct {
			ID       string `json:"id"`
			IsOnline *bool  `json:"is_online"`
		}
		m.get(t, "/api/online/check?"+query, &ans)
		if ans.IsOnline == nil || *ans.IsOnline != want {
			t.Fatalf("online/check?%s = %+v, want %v", query, ans, want)
		}
	}
	check(m1, "id=u2", true)
	check(m1, "id=42&type=wechatUser", true)
	check(m2, "id=u3&type=kefu", false)
	check(m2, "id=nobody", false)

	// disconnect/user: both of u1's wechatUser devices close with 1008; its
	// kefu connection stays.
	var d struct {
		ID                      string
		Disconnected, Delivered int
	}
	m1.post(t, "/api/disconnect/user", map[string]any{"id": "u1", "type": "wechatUser"}, &d)
	if d.ID != "u1" || d.Disconnected != 2 || d.Delivered != 2 {
		t.Fatalf("disconnect/user = %+v", d)
	}
	for _, name := range []string{"u1@n1", "u1@n2"} {
		if cl := c.clients[name].AwaitClose(t); cl.Code != manager.CloseKicked {
			t.Fatalf("%s closed with %d, want 1008", name, cl.Code)
		}
	}
	c.open = slices.DeleteFunc(c.open, func(n string) bool { return n == "u1@n1" || n == "u1@n2" })
	eventually(t, "u1 wechatUser offline", func() (bool, string) {
		var ans struct {
			IsOnline bool `json:"is_online"`
		}
		m2.get(t, "/api/online/check?id=u1&type=wechatUser", &ans)
		return !ans.IsOnline, "online"
	})
	check(m2, "id=u1", true)
	send(m2, "/api/broadcast", map[string]any{"event": "e.after", "param": map[string]any{}}, 5, "e.after", c.open...)
	m1.post(t, "/api/disconnect/user", map[string]any{"id": "u1", "type": "wechatUser"}, &d)
	if d.Disconnected != 0 {
		t.Fatalf("second disconnect/user = %+v", d)
	}

	// status of each node, and the cluster as both see it.
	var st struct {
		NodeID      string `json:"node_id"`
		Connections int    `json:"connections"`
		Users       int    `json:"users"`
		Rooms       int    `json:"rooms"`
		Nodes       []framework.NodeStatus
		Cluster     struct{ Nodes, Connections, Users int }
	}
	// The kicked connections leave the count once their close completes.
	eventually(t, "status of n2", func() (bool, string) {
		m2.get(t, "/api/status", &st)
		return st.NodeID == "n2" && st.Connections == 3 && st.Users == 3 && st.Rooms == 1 &&
			len(st.Nodes) == 2 && st.Nodes[0].ID == "n1" && st.Nodes[1].ID == "n2" &&
			st.Cluster.Nodes == 2 && st.Cluster.Users == 5, fmt.Sprintf("%+v", st)
	})
}

func ref(id, typ string) framework.UserRef { return framework.UserRef{ID: id, Type: typ} }
