package manager_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"msgo/framework"
	"msgo/framework/manager"
	"msgo/framework/msgotest"
)

// TestAdminStats: the admin page's call answers the node's largest rooms
// (not internal groups) with their connections and distinct users, and the
// closes by code.
func TestAdminStats(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{})
	join := func(cl *msgotest.Client, room string) {
		t.Helper()
		if r := cl.Request(t, "test.room.join", map[string]any{"room": room}); r.Status != 200 {
			t.Fatalf("join %s: %+v", room, r)
		}
	}
	a1, a2 := dial(t, srv, "a", framework.TypeWechatUser), dial(t, srv, "a", framework.TypeWechatUser)
	b := dial(t, srv, "b", framework.TypeWall)
	join(a1, "big")
	join(a2, "big")
	join(b, "big")
	join(b, "small")
	// An internal group is not a room: the page does not list it.
	if r := b.Request(t, "test.room.join", map[string]any{"room": "all", "internal": true}); r.Status != 200 {
		t.Fatalf("join internal group: %+v", r)
	}
	gone := dial(t, srv, "c", framework.TypeWechatUser)
	gone.Close()

	type stats struct {
		Rooms  []framework.RoomSize `json:"rooms"`
		Closes map[string]int64     `json:"closes"`
		Time   int64                `json:"time"`
	}
	var s stats
	eventually(t, "a 1000 or 1006 close counted", func() (bool, string) {
		m.get(t, "/api/admin/stats", &s)
		return s.Closes["1006"]+s.Closes["1000"] >= 1, ""
	})
	want := []framework.RoomSize{{Room: "big", Connections: 3, Users: 2}, {Room: "small", Connections: 1, Users: 1}}
	if len(s.Rooms) != 2 || s.Rooms[0] != want[0] || s.Rooms[1] != want[1] || s.Time == 0 {
		t.Fatalf("stats: %+v, want rooms %+v", s, want)
	}
	m.get(t, "/api/admin/stats?limit=1", &s)
	if len(s.Rooms) != 1 || s.Rooms[0].Room != "big" {
		t.Fatalf("limit=1: %+v", s.Rooms)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "room=big"} {
		if ans := m.do(t, http.MethodGet, "/api/admin/stats?"+q, nil, "Bearer "+m.token); ans.status != http.StatusBadRequest {
			t.Errorf("?%s: %d %s, want 400", q, ans.status, ans.Message)
		}
	}
	if ans := m.do(t, http.MethodGet, "/api/admin/stats", nil, ""); ans.status != http.StatusUnauthorized {
		t.Errorf("stats without the token: %d, want 401", ans.status)
	}
}

// TestAdminPageFiles: the page and its files are served without the token
// (they hold no data) under a strict CSP; the shared assets only when given.
func TestAdminPageFiles(t *testing.T) {
	srv := startNode(t, "n1", nil)
	with := serve(t, srv, manager.Options{Assets: fstest.MapFS{"i18n.js": {Data: []byte("export const x = 1;")}}})
	without := serve(t, srv, manager.Options{})
	get := func(base, path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for path, want := range map[string]string{"/admin": "text/html", "/admin/admin.js": "javascript", "/admin/admin.css": "text/css", "/assets/i18n.js": "javascript"} {
		res, body := get(with.url, path)
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), want) || body == "" {
			t.Errorf("%s: %d %q", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	if _, body := get(with.url, "/admin"); strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
		t.Errorf("/admin has inline script or style")
	}
	if res, _ := get(without.url, "/assets/i18n.js"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("/assets/ without Options.Assets: %d, want 401 (no such path)", res.StatusCode)
	}
	if res, _ := get(with.url, "/assets/nope.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset: %d, want 404", res.StatusCode)
	}
}

// TestManagerMetrics: /metrics carries the build, the node's users and rooms,
// and the manager's own calls by route (never by raw path) and status.
func TestManagerMetrics(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{Version: "v9.9.9"})
	cl := dial(t, srv, "u1", framework.TypeWechatUser)
	if r := cl.Request(t, "test.room.join", map[string]any{"room": "r1"}); r.Status != 200 {
		t.Fatal(r)
	}
	dial(t, srv, "u1", framework.TypeWechatUser)
	var st struct{}
	m.get(t, "/api/status", &st)
	m.get(t, "/api/status", &st)
	m.do(t, http.MethodGet, "/api/no/such/call/12345", nil, "Bearer "+m.token)
	m.do(t, http.MethodGet, "/api/status", nil, "Bearer wrong")

	fams := scrape(t, m)
	if v := value(fams, "msgo_build_info", "version=v9.9.9"); v != 1 {
		t.Errorf("msgo_build_info{version=v9.9.9} = %v; families: %v", v, fams["msgo_build_info"])
	}
	if fams["msgo_build_info"].GetMetric()[0].GetLabel()[0].GetValue() == "" {
		t.Errorf("msgo_build_info has an empty goversion")
	}
	if v := value(fams, "msgo_users"); v != 1 {
		t.Errorf("msgo_users = %v, want 1 (one user, two devices)", v)
	}
	if v := value(fams, "msgo_rooms"); v != 1 {
		t.Errorf("msgo_rooms = %v, want 1", v)
	}
	for _, c := range []struct {
		call, code string
		want       float64
	}{{"/api/status", "200", 2}, {"/api/status", "401", 1}, {"other", "404", 1}} {
		if v := value(fams, "msgo_manager_requests_total", "call="+c.call, "code="+c.code); v != c.want {
			t.Errorf("msgo_manager_requests_total{call=%q,code=%q} = %v, want %v", c.call, c.code, v, c.want)
		}
	}
	if v := value(fams, "msgo_manager_request_seconds", "call=/api/status"); v != 3 {
		t.Errorf("msgo_manager_request_seconds{call=/api/status} count = %v, want 3", v)
	}
	for _, mf := range fams["msgo_manager_requests_total"].GetMetric() {
		for _, l := range mf.GetLabel() {
			if strings.Contains(l.GetValue(), "12345") {
				t.Errorf("a raw path became a label: %v", l)
			}
		}
	}
}
