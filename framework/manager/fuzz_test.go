package manager_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"msgo/framework/manager"
)

// managerCalls are the calls FuzzManagerRequest aims at, by the first byte
// of its path argument.
var managerCalls = []string{
	"/api/send/user", "/api/send/users", "/api/broadcast", "/api/send/room",
	"/api/notify", "/api/data-update", "/api/disconnect/user",
	"/api/online/count", "/api/online/users", "/api/online/check", "/api/status",
	"/api/admin/stats",
}

// FuzzManagerRequest decodes arbitrary bodies and queries with the manager's
// calls on a running node (no client connected, so nothing is delivered):
// no input panics or answers 5xx, every answer is the JSON envelope, and a
// 200 only follows input whose keys the call knows.
func FuzzManagerRequest(f *testing.F) {
	srv := startNode(f, "fuzz", nil)
	m := manager.New(manager.Options{Server: srv, Token: token, Version: "fuzz"})
	for _, s := range []struct {
		call        byte
		query, body string
	}{
		{0, "", `{"id":"u1","type":"wechatUser","event":"e","param":{}}`},
		{1, "", `{"ids":["a","b"],"event":"e","param":[1]}`},
		{2, "", `{"event":"e","param":{},"exclude_id":"x"}`},
		{3, "", `{"room":"r1","event":"e","param":{}}`},
		{4, "", `{"room":"r1","title":"t","message":"c","level":"info"}`},
		{5, "", `{"room":"r1","resource_type":"m","action":"update","data":{}}`},
		{6, "", `{"id":"u1","type":"wechatUser"}`},
		{2, "", `{"event":"e","param":{},"rooms":["r"]}`},
		{2, "", `{"event":"e","event":"f","param":{}}`},
		{2, "", `[]`},
		{2, "", `{"event":"\ud800","param":{}}`},
		{0, "", `{"id":1e999}`},
		{7, "type=wechatUser", ""},
		{8, "room=x", ""},
		{8, "type=kefu&type=wall", ""},
		{9, "id=u1&type=wechatUser", ""},
		{10, "%zz", ""},
		{11, "limit=101", ""},
	} {
		f.Add(s.call, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, call byte, query string, body []byte) {
		path := managerCalls[int(call)%len(managerCalls)]
		method := http.MethodPost
		if strings.HasPrefix(path, "/api/online/") || path == "/api/status" || path == "/api/admin/stats" {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, "http://127.0.0.1/x", bytes.NewReader(body))
		req.URL.Path, req.URL.RawQuery = path, query
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		var env struct {
			Code    *int            `json:"code"`
			Message *string         `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code == nil || env.Message == nil {
			t.Fatalf("%s?%s %q: answer %d %q is not the envelope", path, query, body, rec.Code, rec.Body)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s?%s %q: %d %s", path, query, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK && method == http.MethodPost && !json.Valid(body) {
			t.Fatalf("%s %q: invalid JSON accepted", path, body)
		}
	})
}
