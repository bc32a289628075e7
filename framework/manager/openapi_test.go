package manager_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"msgo/framework"
	"msgo/framework/manager"
)

// doc is the served OpenAPI document.
func fetchDoc(t *testing.T, m *api) map[string]any {
	t.Helper()
	ans := m.do(t, http.MethodGet, "/api/openapi.json", nil, "Bearer "+m.token)
	if ans.status != 200 {
		t.Fatalf("openapi.json: %d", ans.status)
	}
	var doc map[string]any
	if err := json.Unmarshal(ans.Data, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	return doc
}

func docPaths(doc map[string]any) []string {
	var out []string
	for p := range doc["paths"].(map[string]any) {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Every path the manager serves is documented, and every documented path is
// served; the written docs name every one too.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	n := startNode(t, "n1", memoryStore(t))
	mgr := manager.New(manager.Options{Server: n, Token: token})
	doc := fetchDoc(t, serve(t, n, manager.Options{}))
	if got, want := docPaths(doc), mgr.Paths(); !slices.Equal(got, want) {
		t.Fatalf("documented paths\n%v\nserved paths\n%v", got, want)
	}
	md, err := os.ReadFile("../../docs/manager-api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range docPaths(doc) {
		if !strings.Contains(string(md), "`"+p) && !strings.Contains(string(md), " "+p) {
			t.Errorf("docs/manager-api.md does not describe %s", p)
		}
	}
}

// Real answers of every JSON call match their documented schema.
func TestOpenAPIAnswersMatchSchemas(t *testing.T) {
	s := memoryStore(t)
	n := startNode(t, "n1", s)
	m := serve(t, n, manager.Options{})
	doc := fetchDoc(t, m)
	dial(t, n, "u1", framework.TypeWechatUser)
	calls := []struct {
		method, path string
		body         any
	}{
		{"GET", "/healthz", nil},
		{"GET", "/readyz", nil},
		{"GET", "/api/status", nil},
		{"GET", "/api/online/count", nil},
		{"GET", "/api/online/users?type=wechatUser", nil},
		{"GET", "/api/online/check?id=u1", nil},
		{"POST", "/api/send/user", map[string]any{"id": "u1", "event": "e", "param": map[string]any{}}},
		{"POST", "/api/send/users", map[string]any{"ids": []any{"u1", 2}, "event": "e", "param": map[string]any{}}},
		{"POST", "/api/broadcast", map[string]any{"event": "e", "param": map[string]any{}, "exclude_id": "x"}},
		{"POST", "/api/send/room", map[string]any{"room": "r1", "event": "e", "param": map[string]any{}}},
		{"POST", "/api/notify", map[string]any{"title": "t", "message": "m", "level": "info"}},
		{"POST", "/api/data-update", map[string]any{"room": "r1", "resource_type": "order", "action": "update", "data": []int{1}}},
		{"POST", "/api/room/join", map[string]any{"id": "u1", "room": "r1"}},
		{"GET", "/api/room/users?room=r1&limit=10", nil},
		{"GET", "/api/room/count?room=r1", nil},
		{"GET", "/api/user/rooms?id=u1", nil},
		{"GET", "/api/admin/stats?limit=5", nil},
		{"POST", "/api/room/leave", map[string]any{"id": "u1", "type": "wechatUser", "room": "r1"}},
		{"POST", "/api/disconnect/user", map[string]any{"id": "u1"}},
	}
	seen := map[string]bool{}
	for _, call := range calls {
		ans := m.do(t, call.method, call.path, call.body, "Bearer "+m.token)
		path, _, _ := strings.Cut(call.path, "?")
		seen[path] = true
		op := doc["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(call.method)].(map[string]any)
		if ans.status != 200 {
			t.Fatalf("%s %s: %d %s", call.method, call.path, ans.status, ans.Message)
		}
		sch := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
		var whole any
		env, _ := json.Marshal(map[string]any{"code": ans.Code, "message": ans.Message, "data": json.RawMessage(ans.Data)})
		json.Unmarshal(env, &whole)
		if err := validate(doc, sch.(map[string]any), whole, "answer"); err != nil {
			t.Errorf("%s %s: %v\n%s", call.method, call.path, err, ans.Data)
		}
		if call.body != nil {
			body := op["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
			var v any
			b, _ := json.Marshal(call.body)
			json.Unmarshal(b, &v)
			if err := validate(doc, body.(map[string]any), v, "body"); err != nil {
				t.Errorf("%s %s: the body sent does not match the documented one: %v", call.method, call.path, err)
			}
		}
	}
	for _, p := range docPaths(doc) {
		if !seen[p] && p != "/metrics" && p != "/api/openapi.json" && p != "/admin" {
			t.Errorf("%s: no answer checked", p)
		}
	}
	// An error answer matches the Error schema.
	ans := m.do(t, "POST", "/api/room/join", map[string]any{"id": "u1"}, "Bearer "+m.token)
	var v any
	env, _ := json.Marshal(map[string]any{"code": ans.Code, "message": ans.Message, "data": json.RawMessage(ans.Data)})
	json.Unmarshal(env, &v)
	errSchema := doc["components"].(map[string]any)["schemas"].(map[string]any)["Error"].(map[string]any)
	if err := validate(doc, errSchema, v, "error"); err != nil || ans.status != 400 {
		t.Fatalf("error answer %d: %v", ans.status, err)
	}
}

// validate checks v against the subset of JSON Schema the document uses:
// $ref, type (one or a list), properties, required, additionalProperties
// false, items, enum, minimum and maximum.
func validate(doc map[string]any, s map[string]any, v any, at string) error {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		return validate(doc, doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any), v, at)
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, kindOf(v)) && !(kindOf(v) == "integer" && slices.Contains(types, "number")) {
			return fmt.Errorf("%s: %s, want %v", at, kindOf(v), types)
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v not in %v", at, v, enum)
	}
	if f, ok := v.(float64); ok {
		if lo, ok := s["minimum"].(float64); ok && f < lo {
			return fmt.Errorf("%s: %v < %v", at, f, lo)
		}
		if hi, ok := s["maximum"].(float64); ok && f > hi {
			return fmt.Errorf("%s: %v > %v", at, f, hi)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := v[r]; !ok {
				return fmt.Errorf("%s: %s missing", at, r)
			}
		}
		for k, x := range v {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					return fmt.Errorf("%s: %s not documented", at, k)
				}
				continue
			}
			if err := validate(doc, ps, x, at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, x := range v {
				if err := validate(doc, items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}

func kindOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}
