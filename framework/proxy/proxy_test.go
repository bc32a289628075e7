package proxy_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/framework/proxy"
)

func TestConnectJoinsRoomsAndSendsFirstFrame(t *testing.T) {
	b := newBackend(t)
	b.handle("/connect", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sekret" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		answerJSON(`{"status":200,"rooms":["vip","r2"],"param":{"welcome":"hi"}}`)(w, r)
	})
	n := startNode(t, b, proxy.Config{Connect: true, Token: "sekret"}, msgotest.Options{}, nil)
	c := n.Dial(t, guest("u1"))
	// Joined before the 101: the count is right as soon as the dial returns.
	if got, err := n.App().GroupCount(t.Context(), framework.Room("vip")); err != nil || got != 1 {
		t.Fatalf("vip count = %d, %v; want 1", got, err)
	}
	first := c.Await(t, framework.EventConnect)
	if first.Status != 200 || string(first.Param) != `{"welcome":"hi"}` || first.ID != nil {
		t.Fatalf("first frame = %+v", first)
	}
	if fs := c.Frames(); len(fs) != 0 {
		t.Fatalf("frames before sys.connect: %+v", fs)
	}
	body := b.taken("/connect")[0]
	cl := body["client"].(map[string]any)
	user := cl["user"].(map[string]any)
	if cl["node"] != n.NodeID() || !strings.HasPrefix(cl["conn"].(string), n.NodeID()+"/") || cl["ip"] != "127.0.0.1" ||
		user["id"] != "u1" || user["type"] != "wechatUser" || user["code"] != "room1" || user["nickname"] != "nick-u1" {
		t.Fatalf("connect client = %v", cl)
	}
	if h := body["headers"].(map[string]any); h["user-agent"] == nil || h["origin"] == nil {
		t.Fatalf("connect headers = %v", h)
	}
}

// dialStatus dials and returns the handshake's HTTP status (101 when it upgraded).
func dialStatus(t *testing.T, n *node, id framework.Identity) int {
	t.Helper()
	c, err := n.DialURL(n.URL + "?auth=" + n.Token(t, id))
	if err == nil {
		c.Close()
		return 101
	}
	var rej ws.StatusError
	if se, ok := err.(ws.StatusError); ok {
		rej = se
	} else {
		t.Fatalf("dial: %v", err)
	}
	return int(rej)
}

func TestConnectRefusals(t *testing.T) {
	cases := []struct {
		name string
		h    http.HandlerFunc
		want int
	}{
		{"refused", answerJSON(`{"status":403,"info":"banned"}`), 403},
		{"http 500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) }, 503},
		{"not json", answerJSON(`<html>`), 503},
		{"status 500 in body", answerJSON(`{"status":500}`), 503},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, 503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			b.handle("/connect", tc.h)
			n := startNode(t, b, proxy.Config{Connect: true, Timeout: 300 * time.Millisecond}, msgotest.Options{}, nil)
			if got := dialStatus(t, n, guest("u1")); got != tc.want {
				t.Fatalf("handshake status %d, want %d", got, tc.want)
			}
			if n.Connections() != 0 {
				t.Fatalf("%d connections after a refusal", n.Connections())
			}
		})
	}
	t.Run("down", func(t *testing.T) {
		b := newBackend(t)
		n := startNode(t, b, proxy.Config{Connect: true}, msgotest.Options{}, nil)
		b.Close()
		if got := dialStatus(t, n, guest("u1")); got != 503 {
			t.Fatalf("handshake status %d, want 503", got)
		}
	})
}

func TestRPCRelaysReply(t *testing.T) {
	b := newBackend(t)
	b.handle("/rpc", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Method string          `json:"method"`
			ID     json.RawMessage `json:"id"`
			Param  json.RawMessage `json:"param"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		switch body.Method {
		case "shop.order.create":
			answerJSON(`{"status":200,"info":"created","param":{"order":7,"echo":`+string(body.Param)+`,"id":`+string(body.ID)+`}}`)(w, r)
		default:
			answerJSON(`{"status":422,"info":"no such product"}`)(w, r)
		}
	})
	n := startNode(t, b, proxy.Config{Methods: []string{"shop"}}, msgotest.Options{Modules: []msgotest.Module{echoModule}}, nil)
	c := n.Dial(t, guest("u1"))
	c.Write(t, []byte(`{"method":"Shop.Order.Create","id":"a-1","sku":"x","qty":2}`))
	r := c.AwaitID(t, json.RawMessage(`"a-1"`))
	if r.Status != 200 || r.Info != "created" || r.Event != "shop.order.create" ||
		string(r.Param) != `{"order":7,"echo":{"sku":"x","qty":2},"id":"a-1"}` {
		t.Fatalf("reply = %+v %s", r, r.Param)
	}
	r = c.Request(t, "shop.order.refund", nil)
	if r.Status != 422 || r.Info != "no such product" || r.Event != "shop.order.refund" {
		t.Fatalf("4xx reply = %+v", r)
	}
	c.Write(t, []byte(`{"method":"shop.cart.view"}`))
	if r := c.Await(t, "shop.cart.view"); r.ID != nil || r.Status != 422 {
		t.Fatalf("reply without id = %+v", r)
	}
	if got := b.taken("/rpc")[2]["id"]; got != nil {
		t.Fatalf("id sent for a request without one = %v", got)
	}
	// Not a prefix at a dot: an unknown method, answered here.
	if r := c.Request(t, "shopping.cart.view", nil); r.Status != 404 {
		t.Fatalf("shopping.* = %+v", r)
	}
}

func TestRPCFaults(t *testing.T) {
	huge := `{"status":200,"param":{"x":"` + strings.Repeat("a", proxy.MaxAnswerBytes) + `"}}`
	cases := []struct {
		name string
		h    http.HandlerFunc
		want int
	}{
		{"not json", answerJSON(`not json`), 502},
		{"array", answerJSON(`[1,2]`), 502},
		{"no status", answerJSON(`{"info":"x"}`), 502},
		{"status string", answerJSON(`{"status":"200"}`), 502},
		{"param not object", answerJSON(`{"status":200,"param":"x"}`), 502},
		{"status 500 in body", answerJSON(`{"status":500}`), 502},
		{"http 500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) }, 502},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, 502},
		{"huge", answerJSON(huge), 502},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, 504},
	}
	b := newBackend(t)
	n := startNode(t, b, proxy.Config{Methods: []string{"shop"}, Timeout: 3 * time.Second}, msgotest.Options{}, nil)
	c := n.Dial(t, guest("u1"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b.handle("/rpc", tc.h)
			r := c.Request(t, "shop.order.create", map[string]any{"sku": "x"})
			if r.Status != tc.want || r.Event != "shop.order.create" {
				t.Fatalf("reply = %+v, want status %d", r, tc.want)
			}
			if r := c.Request(t, "ping", nil); r.Status != 200 { // the connection stays
				t.Fatalf("ping after the fault = %+v", r)
			}
		})
	}
	t.Run("down", func(t *testing.T) {
		b.Close()
		if r := c.Request(t, "shop.order.create", nil); r.Status != 502 {
			t.Fatalf("reply = %+v, want 502", r)
		}
	})
	if metric(t, n, "msgo_proxy_calls_total", "call", "rpc", "result", "timeout") != 1 {
		t.Fatalf("no timeout counted")
	}
}

// A connection's messages are answered in the order sent, proxied or not:
// a slow backend reply holds the Go route's reply behind it.
func TestRPCKeepsOrder(t *testing.T) {
	b := newBackend(t)
	b.handle("/rpc", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		answerJSON(`{"status":200}`)(w, r)
	})
	n := startNode(t, b, proxy.Config{Methods: []string{"shop"}}, msgotest.Options{Modules: []msgotest.Module{echoModule}}, nil)
	c := n.Dial(t, guest("u1"))
	c.Write(t, []byte(`{"method":"shop.a.b","id":1}`))
	c.Write(t, []byte(`{"method":"go.echo.say","id":2}`))
	c.Write(t, []byte(`{"method":"shop.a.b","id":3}`))
	c.Write(t, []byte(`{"method":"go.echo.say","id":4}`))
	for _, want := range []string{"1", "2", "3", "4"} {
		r, err := c.Next(5*time.Second, func(msgotest.Reply) bool { return true })
		if err != nil || string(r.ID) != want {
			t.Fatalf("reply %s: got %+v, %v", want, r, err)
		}
	}
}

func TestRPCRateLimited(t *testing.T) {
	b := newBackend(t)
	n := startNode(t, b, proxy.Config{Methods: []string{"shop"}}, msgotest.Options{Config: framework.Config{RateLimit: 2}}, nil)
	c := n.Dial(t, guest("u1"))
	statuses := map[int]int{}
	for range 5 {
		statuses[c.Request(t, "shop.a.b", nil).Status]++
	}
	if statuses[429] == 0 || statuses[200] == 0 {
		t.Fatalf("statuses = %v, want some 200 and some 429", statuses)
	}
	if got := len(b.taken("/rpc")); got != statuses[200] {
		t.Fatalf("backend got %d calls, want %d", got, statuses[200])
	}
}

// A full queue answers 503 at once; nothing waits on it.
func TestRPCQueueFull(t *testing.T) {
	b := newBackend(t)
	release := make(chan struct{})
	b.handle("/rpc", func(w http.ResponseWriter, r *http.Request) {
		<-release
		answerJSON(`{"status":200}`)(w, r)
	})
	n := startNode(t, b, proxy.Config{Methods: []string{"shop"}, Workers: 1, Queue: 1}, msgotest.Options{}, nil)
	defer close(release)
	var cs []*msgotest.Client
	for i := range 3 {
		c := n.Dial(t, guest(string(rune('a'+i))))
		cs = append(cs, c)
		c.Call(t, "shop.a.b", nil)
		time.Sleep(50 * time.Millisecond)
	}
	r := cs[2].Await(t, "shop.a.b")
	if r.Status != 503 {
		t.Fatalf("third call = %+v, want 503", r)
	}
	// The refused connection goes on: a Go-side answer still comes.
	if r := cs[2].Request(t, "ping", nil); r.Status != 200 {
		t.Fatalf("ping = %+v", r)
	}
}

func TestCheckRoutes(t *testing.T) {
	p, err := proxy.New(proxy.Config{Endpoint: "http://127.0.0.1:1", Methods: []string{"Live.User", "shop"}}, proxy.Options{Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	err = p.CheckRoutes([]framework.Route{{Method: "live.user.join"}, {Method: "kefu.chat.send"}})
	if err == nil || !strings.Contains(err.Error(), `"live.user"`) || !strings.Contains(err.Error(), `"live.user.join"`) {
		t.Fatalf("CheckRoutes = %v", err)
	}
	if err := p.CheckRoutes([]framework.Route{{Method: "kefu.chat.send"}}); err != nil {
		t.Fatal(err)
	}
}

// The timeout counts from when a call is queued: calls that waited for a
// worker past it answer 504 without reaching the backend. The calls are
// queued before the workers start, and the workers start after the timeout.
func TestRPCTimeoutCountsTheQueue(t *testing.T) {
	b := newBackend(t)
	var calls atomic.Int32
	b.handle("/rpc", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		answerJSON(`{"status":200}`)(w, r)
	})
	p, err := proxy.New(proxy.Config{Endpoint: b.URL, Methods: []string{"shop"}, Workers: 1, Timeout: 100 * time.Millisecond}, proxy.Options{Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	replies := make(chan framework.BackendReply, 2)
	for id := range 2 {
		pe := framework.Peer{Node: "n1", ID: framework.ConnID(id + 1), User: framework.Identity{ID: "u", Type: framework.TypeWall}}
		if !p.Call(pe, "shop.a.b", nil, json.RawMessage(`{}`), func(r framework.BackendReply) { replies <- r }) {
			t.Fatal("queue refused a call")
		}
	}
	time.Sleep(150 * time.Millisecond) // past both calls' deadline
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	for range 2 {
		if r := <-replies; r.Status != http.StatusGatewayTimeout {
			t.Fatalf("reply %+v, want 504", r)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("backend got %d calls, want none", n)
	}
}
