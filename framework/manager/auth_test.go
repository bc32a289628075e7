package manager_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"msgo/framework"
	"msgo/framework/manager"
)

// guarded is every call that needs the token, with a body it accepts.
var guarded = []struct {
	method, path string
	body         any
}{
	{"GET", "/api/status", nil},
	{"GET", "/api/online/count", nil},
	{"GET", "/api/online/users", nil},
	{"GET", "/api/online/check?id=u1", nil},
	{"POST", "/api/send/user", map[string]any{"id": "u1", "event": "e", "param": map[string]any{}}},
	{"POST", "/api/send/users", map[string]any{"ids": []string{"u1"}, "event": "e", "param": map[string]any{}}},
	{"POST", "/api/broadcast", map[string]any{"event": "e", "param": map[string]any{}}},
	{"POST", "/api/send/room", map[string]any{"room": "r1", "event": "e", "param": map[string]any{}}},
	{"POST", "/api/notify", map[string]any{"title": "t", "message": "m", "level": "info"}},
	{"POST", "/api/data-update", map[string]any{"resource_type": "r", "action": "a", "data": 1}},
	{"POST", "/api/disconnect/user", map[string]any{"id": "nobody"}},
	{"GET", "/metrics", nil},
	{"GET", "/debug/pprof/", nil},
	{"GET", "/debug/pprof/cmdline", nil},
}

func TestEveryCallNeedsTheToken(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{Pprof: true})
	cl := dial(t, srv, "u1", framework.TypeWechatUser)

	for _, c := range guarded {
		for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong", "Bearer " + token + "x", "Bearer " + token[:len(token)-1],
			"Basic " + token, token, "Token " + token} {
			ans := m.do(t, c.method, c.path, c.body, auth)
			if ans.status != http.StatusUnauthorized {
				t.Errorf("%s %s with Authorization %q: %d %s", c.method, c.path, auth, ans.status, ans.Data)
			}
			if ans.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", c.method, c.path)
			}
		}
		for _, auth := range []string{"Bearer " + token, "bearer " + token, "BEARER  " + token + " "} {
			if ans := m.do(t, c.method, c.path, c.body, auth); ans.status != http.StatusOK {
				t.Errorf("%s %s with Authorization %q: %d %s", c.method, c.path, auth, ans.status, ans.Data)
			}
		}
	}
	// Refused calls pushed nothing: before the marker, the client saw the
	// authorized send/user, send/users, broadcast, notify and data-update,
	// three times each.
	m.delivered(t, "/api/send/user", map[string]any{"id": "u1", "event": "marker", "param": map[string]any{}})
	cl.Await(t, "marker")
	count := map[string]int{}
	for _, f := range cl.Frames() {
		count[f.Event]++
	}
	if len(count) != 3 || count["e"] != 9 || count[manager.EventNotice] != 3 || count[manager.EventDataUpdate] != 3 {
		t.Errorf("frames received: %v", count)
	}
	// An unknown path without the token is 401 too: outsiders cannot map the API.
	if ans := m.do(t, "GET", "/api/nope", nil, ""); ans.status != 401 {
		t.Errorf("unknown path without token: %d", ans.status)
	}
	// The probes are open.
	for _, p := range []string{"/healthz", "/readyz"} {
		if ans := m.do(t, "GET", p, nil, ""); ans.status != 200 || ans.Message != "success" {
			t.Errorf("%s without token: %d %s", p, ans.status, ans.Message)
		}
	}
}

func TestNoTokenServesLoopbackOnly(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{Token: "-"})
	var cnt struct{ Connections, Users int }
	m.get(t, "/api/online/count", &cnt)
	if ans := m.do(t, "GET", "/api/status", nil, ""); ans.status != 200 {
		t.Fatalf("no token configured, loopback peer: %d", ans.status)
	}

	// The same handler, reached from another address (the port bound wider
	// than CheckBind allows), refuses.
	h := manager.New(manager.Options{Server: srv})
	for remote, want := range map[string]int{
		"203.0.113.7:5000": 401, "[2001:db8::1]:5000": 401, "10.0.0.1:1": 401,
		"127.0.0.1:5000": 200, "[::1]:5000": 200, "[::ffff:127.0.0.1]:5000": 200,
	} {
		req := httptest.NewRequest("GET", "http://127.0.0.1:9502/api/status", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("no token, peer %s: %d %s, want %d", remote, rec.Code, rec.Body, want)
		}
	}
}

func TestCheckBind(t *testing.T) {
	for _, c := range []struct {
		listen, token string
		ok            bool
	}{
		{"127.0.0.1:9502", "", true},
		{"127.0.0.2:9502", "", true},
		{"localhost:9502", "", true},
		{"[::1]:9502", "", true},
		{"0.0.0.0:9502", "", false},
		{":9502", "", false},
		{"[::]:9502", "", false},
		{"10.1.2.3:9502", "", false},
		{"example.com:9502", "", false},
		{"0.0.0.0:9502", "t", true},
		{":9502", "t", true},
	} {
		err := manager.CheckBind(c.listen, c.token)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, manager.ErrNoToken)) {
			t.Errorf("CheckBind(%q, %q) = %v, want ok %v", c.listen, c.token, err, c.ok)
		}
	}
	if err := manager.CheckBind("9502", ""); err == nil || errors.Is(err, manager.ErrNoToken) {
		t.Errorf("CheckBind without a port separator = %v", err)
	}
}
