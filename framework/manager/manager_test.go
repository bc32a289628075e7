package manager_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"msgo/app/index"
	"msgo/framework"
	"msgo/framework/manager"
	"msgo/framework/msgotest"
	"msgo/library/cache"
)

const token = "manager-test-token"

// answer is the manager's envelope as a client reads it.
type answer struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	status  int
	header  http.Header
}

// api is an HTTP client of one manager.
type api struct {
	url   string
	token string
}

// serve starts the manager of node on an ephemeral port. An empty o.Token
// is replaced by the test token; set o.Token to "-" for none.
func serve(t testing.TB, node manager.Node, o manager.Options) *api {
	t.Helper()
	o.Server = node
	switch o.Token {
	case "":
		o.Token = token
	case "-":
		o.Token = ""
	}
	if o.Version == "" {
		o.Version = "test"
	}
	ts := httptest.NewServer(manager.New(o))
	t.Cleanup(ts.Close)
	return &api{url: ts.URL, token: o.Token}
}

// do sends one call; body is sent as is when it is a string or []byte, else
// as JSON. auth is the whole Authorization header ("" for none).
func (a *api) do(t testing.TB, method, path string, body any, auth string) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode %s body: %v", path, err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		t.Fatalf("request %s %s: %v", method, path, err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	ans := answer{status: res.StatusCode, header: res.Header}
	// /metrics and pprof answer in their own formats; everything else, and
	// every refusal, is the JSON envelope.
	own := path == "/metrics" || path == "/api/openapi.json" || strings.HasPrefix(path, "/debug/pprof/")
	if (!own || res.StatusCode != http.StatusOK) && method != http.MethodHead {
		if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, raw)
		}
		if err := json.Unmarshal(raw, &ans); err != nil {
			t.Fatalf("%s %s: answer is not the JSON envelope: %v: %s", method, path, err, raw)
		}
		if ans.Code != res.StatusCode {
			t.Fatalf("%s %s: code %d in the body, HTTP status %d", method, path, ans.Code, res.StatusCode)
		}
	} else {
		ans.Data = raw
	}
	return ans
}

// call sends an authorized call and fails the test unless it answers 200.
func (a *api) call(t testing.TB, method, path string, body any) answer {
	t.Helper()
	ans := a.do(t, method, path, body, "Bearer "+a.token)
	if ans.status != http.StatusOK || ans.Message != "success" {
		t.Fatalf("%s %s: %d %q %s", method, path, ans.status, ans.Message, ans.Data)
	}
	return ans
}

// post sends an authorized POST and decodes data into v.
func (a *api) post(t testing.TB, path string, body, v any) {
	t.Helper()
	decode(t, a.call(t, http.MethodPost, path, body), v)
}

// get sends an authorized GET and decodes data into v.
func (a *api) get(t testing.TB, path string, v any) {
	t.Helper()
	decode(t, a.call(t, http.MethodGet, path, nil), v)
}

func decode(t testing.TB, ans answer, v any) {
	t.Helper()
	if err := json.Unmarshal(ans.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", ans.Data, err)
	}
}

// delivered posts a send call and returns data.delivered.
func (a *api) delivered(t testing.TB, path string, body any) int {
	t.Helper()
	var d struct {
		Delivered *int `json:"delivered"`
	}
	a.post(t, path, body, &d)
	if d.Delivered == nil {
		t.Fatalf("%s: no data.delivered", path)
	}
	return *d.Delivered
}

// joinModule lets a test client join a room: test.room.join {"room"}, or
// with "internal": true the module's internal group of that name.
func joinModule(r *framework.Router) {
	r.Handle("test.room.join", func(c *framework.Context) error {
		var p struct {
			Room     string `json:"room"`
			Internal bool   `json:"internal"`
		}
		if err := c.Bind(&p); err != nil {
			return err
		}
		g := framework.Room(p.Room)
		if p.Internal {
			g = framework.InternalGroup(p.Room)
		}
		return c.App().JoinGroup(c.Context(), c.Client().ID(), g)
	})
}

// startNode starts a node with the index and test modules on store.
func startNode(t testing.TB, id string, store cache.Store) *msgotest.Server {
	t.Helper()
	return msgotest.Start(t, msgotest.Options{
		NodeID:  id,
		Store:   store,
		Secret:  "manager-test-secret",
		Modules: []msgotest.Module{index.Register, joinModule},
	})
}

// memoryStore returns a memory store closed after the nodes using it stop.
func memoryStore(t testing.TB) cache.Store {
	m := cache.NewMemory()
	t.Cleanup(func() { m.Close() })
	return m
}

// dial connects a client and waits until the node has attached it (its ping
// is answered), so presence and pushes can find it.
func dial(t testing.TB, srv *msgotest.Server, id, typ string) *msgotest.Client {
	t.Helper()
	cl := srv.Dial(t, framework.Identity{ID: id, Type: typ, Nickname: id})
	if r := cl.Request(t, "ping", nil); r.Status != 200 {
		t.Fatalf("ping as %s: %+v", id, r)
	}
	return cl
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
