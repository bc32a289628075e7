package manager_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"msgo/framework/manager"
	"msgo/library/encrypt"
)

func TestBadInput(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{})
	cl := dial(t, srv, "u1", encrypt.TypeWechatUser)

	ok := `"event":"e","param":{}`
	for _, c := range []struct {
		method, path, body string
		want               string // the message starts with it
	}{
		// The body itself.
		{"POST", "/api/send/user", ``, "body: empty"},
		{"POST", "/api/send/user", `   `, "body: empty"},
		{"POST", "/api/send/user", `{`, "body: malformed JSON"},
		{"POST", "/api/send/user", `{"id":"u1",}`, "body: malformed JSON"},
		{"POST", "/api/send/user", `{"id":"u1"} {}`, "body: malformed JSON"},
		{"POST", "/api/send/user", `[]`, "body: must be a JSON object"},
		{"POST", "/api/send/user", `"x"`, "body: must be a JSON object"},
		{"POST", "/api/send/user", `null`, "body: must be a JSON object"},
		// send/user
		{"POST", "/api/send/user", `{` + ok + `}`, "id: required"},
		{"POST", "/api/send/user", `{"id":null,` + ok + `}`, "id: required"},
		{"POST", "/api/send/user", `{"id":"",` + ok + `}`, "id: must not be empty"},
		{"POST", "/api/send/user", `{"id":true,` + ok + `}`, "id: must be a string or an integer"},
		{"POST", "/api/send/user", `{"id":1.5,` + ok + `}`, "id: must be a string or an integer"},
		{"POST", "/api/send/user", `{"id":1e3,` + ok + `}`, "id: must be a string or an integer"},
		{"POST", "/api/send/user", `{"id":["u1"],` + ok + `}`, "id: must be a string or an integer"},
		{"POST", "/api/send/user", `{"id":"u1","type":"admin",` + ok + `}`, `type: must be wechatUser, wall or kefu, got "admin"`},
		{"POST", "/api/send/user", `{"id":"u1","type":3,` + ok + `}`, "type: must be a string"},
		{"POST", "/api/send/user", `{"id":"u1","param":{}}`, "event: required"},
		{"POST", "/api/send/user", `{"id":"u1","event":"","param":{}}`, "event: must not be empty"},
		{"POST", "/api/send/user", `{"id":"u1","event":5,"param":{}}`, "event: must be a string"},
		{"POST", "/api/send/user", `{"id":"u1","event":"e"}`, "param: required"},
		{"POST", "/api/send/user", `{"id":"u1","event":"e","param":null}`, "param: required"},
		{"POST", "/api/send/user", `{"id":"u1","event":"e","param":[1]}`, "param: must be a JSON object"},
		{"POST", "/api/send/user", `{"id":"u1","event":"e","param":"x"}`, "param: must be a JSON object"},
		{"POST", "/api/send/user", `{"id":"u1",` + ok + `,"info":7}`, "info: must be a string"},
		// send/users
		{"POST", "/api/send/users", `{` + ok + `}`, "ids: required"},
		{"POST", "/api/send/users", `{"ids":"u1",` + ok + `}`, "ids: must be an array"},
		{"POST", "/api/send/users", `{"ids":[],` + ok + `}`, "ids: must not be empty"},
		{"POST", "/api/send/users", `{"ids":["u1",true],` + ok + `}`, "ids: item 1 must be"},
		{"POST", "/api/send/users", `{"ids":[""],` + ok + `}`, "ids: item 0 must be"},
		{"POST", "/api/send/users", `{"ids":["u1"],"type":"x",` + ok + `}`, "type:"},
		{"POST", "/api/send/users", `{"ids":["u1"],"param":{}}`, "event: required"},
		// broadcast
		{"POST", "/api/broadcast", `{"param":{}}`, "event: required"},
		{"POST", "/api/broadcast", `{"event":"e"}`, "param: required"},
		{"POST", "/api/broadcast", `{` + ok + `,"exclude_id":{}}`, "exclude_id: must be a string or an integer"},
		// send/room
		{"POST", "/api/send/room", `{` + ok + `}`, "room: required"},
		{"POST", "/api/send/room", `{"room":[],` + ok + `}`, "room: must be a string or an integer"},
		{"POST", "/api/send/room", `{"room":"r1","event":"e","param":1}`, "param: must be a JSON object"},
		// notify
		{"POST", "/api/notify", `{"message":"m","level":"info"}`, "title: required"},
		{"POST", "/api/notify", `{"title":"t","message":1,"level":"info"}`, "message: must be a string"},
		{"POST", "/api/notify", `{"title":"t","message":"m"}`, "level: required"},
		{"POST", "/api/notify", `{"title":"t","message":"m","level":"info","ids":"u1"}`, "ids: must be an array"},
		{"POST", "/api/notify", `{"title":"t","message":"m","level":"info","ids":[{}]}`, "ids: item 0 must be"},
		// data-update
		{"POST", "/api/data-update", `{"action":"a","data":1}`, "resource_type: required"},
		{"POST", "/api/data-update", `{"resource_type":"r","data":1}`, "action: required"},
		{"POST", "/api/data-update", `{"resource_type":"r","action":false,"data":1}`, "action: must be a string"},
		{"POST", "/api/data-update", `{"resource_type":"r","action":"a"}`, "data: required"},
		{"POST", "/api/data-update", `{"ids":["u1"],"room":"r1","resource_type":"r","action":"a","data":1}`, "ids: give ids or room, not both"},
		{"POST", "/api/data-update", `{"room":1.5,"resource_type":"r","action":"a","data":1}`, "room: must be a string or an integer"},
		{"POST", "/api/data-update", `{"ids":{},"resource_type":"r","action":"a","data":1}`, "ids: must be an array"},
		// disconnect/user
		{"POST", "/api/disconnect/user", `{}`, "id: required"},
		{"POST", "/api/disconnect/user", `{"id":"u1","type":"wechatuser"}`, "type: must be"},
		// GET queries
		{"GET", "/api/online/check", ``, "id: required"},
		{"GET", "/api/online/check?id=", ``, "id: must not be empty"},
		{"GET", "/api/online/check?id=u1&type=x", ``, "type: must be"},
		{"GET", "/api/online/check?id=%zz", ``, "query:"},
		{"GET", "/api/online/users?type=x", ``, "type: must be"},
	} {
		var body any
		if c.method == "POST" {
			body = c.body
		}
		ans := m.do(t, c.method, c.path, body, "Bearer "+token)
		if ans.status != http.StatusBadRequest || !strings.HasPrefix(ans.Message, c.want) {
			t.Errorf("%s %s %s: %d %q, want 400 %q", c.method, c.path, c.body, ans.status, ans.Message, c.want)
		}
	}
	// Nothing bad was pushed.
	if fs := cl.Frames(); len(fs) > 0 {
		t.Errorf("a refused call pushed %+v", fs)
	}
}

func TestBodyOver1MiB(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{})
	cl := dial(t, srv, "u1", encrypt.TypeWechatUser)

	body := func(size int) []byte {
		head := `{"id":"u1","event":"big","param":{"s":"`
		tail := `"}}`
		return []byte(head + strings.Repeat("a", size-len(head)-len(tail)) + tail)
	}
	// Exactly the limit is accepted, with a Content-Length or chunked.
	if n := m.delivered(t, "/api/send/user", body(manager.MaxBodyBytes)); n != 1 {
		t.Fatalf("a 1 MiB body delivered %d", n)
	}
	if n := m.delivered(t, "/api/send/user", io.MultiReader(bytes.NewReader(body(manager.MaxBodyBytes)))); n != 1 {
		t.Fatalf("a 1 MiB chunked body delivered %d", n)
	}
	// One byte more is 413, whether the length is announced or not.
	for name, b := range map[string]any{
		"content-length": body(manager.MaxBodyBytes + 1),
		"chunked":        io.MultiReader(bytes.NewReader(body(manager.MaxBodyBytes + 1))),
		"chunked, large": io.MultiReader(bytes.NewReader(body(8 * manager.MaxBodyBytes))),
	} {
		ans := m.do(t, "POST", "/api/send/user", b, "Bearer "+token)
		if ans.status != http.StatusRequestEntityTooLarge || !strings.HasPrefix(ans.Message, "body: over") {
			t.Errorf("%s body over 1 MiB: %d %q", name, ans.status, ans.Message)
		}
	}
	cl.Await(t, "big")
	cl.Await(t, "big")
	m.delivered(t, "/api/send/user", map[string]any{"id": "u1", "event": "marker", "param": map[string]any{}})
	cl.Await(t, "marker")
	if fs := cl.Frames(); len(fs) > 0 {
		t.Errorf("a refused body pushed %d frames", len(fs))
	}
}

func TestUnknownPathAndWrongMethod(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{})
	auth := "Bearer " + token
	for _, p := range []string{"/", "/api", "/api/", "/api/nope", "/api/status/", "/API/STATUS", "/api/send", "/debug/pprof/", "/metrics/x"} {
		for _, method := range []string{"GET", "POST"} {
			if ans := m.do(t, method, p, nil, auth); ans.status != http.StatusNotFound {
				t.Errorf("%s %s: %d %q, want 404", method, p, ans.status, ans.Message)
			}
		}
	}
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/api/send/user", "POST"},
		{"PUT", "/api/broadcast", "POST"},
		{"DELETE", "/api/disconnect/user", "POST"},
		{"POST", "/api/status", "GET, HEAD"},
		{"POST", "/api/online/check", "GET, HEAD"},
		{"DELETE", "/metrics", "GET, HEAD"},
		{"POST", "/healthz", "GET, HEAD"},
		{"PUT", "/readyz", "GET, HEAD"},
	} {
		ans := m.do(t, c.method, c.path, nil, auth)
		if ans.status != http.StatusMethodNotAllowed || ans.header.Get("Allow") != c.allow || !strings.Contains(ans.Message, c.path) {
			t.Errorf("%s %s: %d %q Allow %q, want 405 Allow %q", c.method, c.path, ans.status, ans.Message, ans.header.Get("Allow"), c.allow)
		}
	}
	if ans := m.do(t, "HEAD", "/api/status", nil, auth); ans.status != http.StatusOK {
		t.Errorf("HEAD /api/status: %d", ans.status)
	}
}
