package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"msgo/framework"
)

// phpBackend stands in for the PHP application: it answers every call
// {"status":200} (an rpc echoes its param) and keeps the disconnect events.
type phpBackend struct {
	*httptest.Server
	mu     sync.Mutex
	events []map[string]any
}

func newPHPBackend(t *testing.T) *phpBackend {
	b := &phpBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		switch r.URL.Path {
		case "/disconnect":
			b.mu.Lock()
			b.events = append(b.events, body)
			b.mu.Unlock()
			io.WriteString(w, `{"status":200}`)
		case "/rpc":
			p, _ := json.Marshal(body["param"])
			fmt.Fprintf(w, `{"status":200,"info":"php","param":%s}`, p)
		default:
			io.WriteString(w, `{"status":200}`)
		}
	}))
	t.Cleanup(b.Close)
	return b
}

// awaitEvents waits until the backend holds n events, then a moment more
// to catch any duplicate, and returns them by user id.
func (b *phpBackend) awaitEvents(t *testing.T, n int) map[string][]map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.mu.Lock()
		got := len(b.events)
		b.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend got %d disconnect events, want %d", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]map[string]any{}
	for _, e := range b.events {
		id := e["client"].(map[string]any)["user"].(map[string]any)["id"].(string)
		out[id] = append(out[id], e)
	}
	return out
}

func proxyEnv(b *phpBackend) []string {
	return []string{
		"MSGO_PROXY_ENDPOINT=" + b.URL,
		"MSGO_PROXY_METHODS=shop",
		"MSGO_PROXY_DISCONNECT=true",
		"MSGO_PROXY_RETRY_MIN_MS=50",
		"MSGO_PROXY_RETRY_MAX=1",
	}
}

func user(id string) framework.Identity {
	return framework.Identity{ID: id, Type: framework.TypeWechatUser, Nickname: id}
}

// A single node (memory store, SQLite) killed with -9 reports the
// connections it had when it starts again.
func TestProxyKilledNodeReportsOnRestart(t *testing.T) {
	b := newPHPBackend(t)
	in := newInstance(t, append(proxyEnv(b), "MSGO_AUTH_SECRET=proxy-test")...)
	start := func() *exec.Cmd {
		c := exec.Command(in.bin, "start")
		c.Env, c.Dir = in.env, in.dir
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		return c
	}
	proc := start()
	a := dialRetry(t, in, user("a"))
	if r := a.Request(t, "shop.cart.add", map[string]any{"sku": 1}); r.Status != 200 || r.Info != "php" || string(r.Param) != `{"sku":1}` {
		t.Fatalf("rpc through the process: %+v", r)
	}
	dialRetry(t, in, user("b"))
	dialRetry(t, in, user("c")).Close()
	b.awaitEvents(t, 1)

	proc.Process.Kill()
	proc.Wait()
	start()
	got := b.awaitEvents(t, 3)
	for _, id := range []string{"a", "b"} {
		if len(got[id]) != 1 || got[id][0]["code"] != float64(1006) || got[id][0]["reason"] != "node lost" {
			t.Fatalf("%s: events %v, want one 1006 node lost", id, got[id])
		}
	}
	if len(got["c"]) != 1 || got["c"][0]["code"] != float64(1006) || got["c"][0]["reason"] == "node lost" {
		t.Fatalf("c: events %v", got["c"])
	}
}

// In a three-node cluster, kill -9 of one node: one survivor reports each of
// its connections, once, with 1006 "node lost".
func TestProxyClusterKilledNodeReportedOnce(t *testing.T) {
	b := newPHPBackend(t)
	env, _ := clusterEnv(t)
	procs, ins := startProcs(t, 3, append(env, proxyEnv(b)...))
	for i := range 4 {
		dialRetry(t, ins[0], user(fmt.Sprint("dead", i)))
	}
	alive := dialRetry(t, ins[1], user("alive"))
	if r := alive.Request(t, "shop.a.b", nil); r.Status != 200 {
		t.Fatalf("rpc: %+v", r)
	}
	procs[0].Process.Kill()
	procs[0].Wait()
	got := b.awaitEvents(t, 4)
	for i := range 4 {
		es := got[fmt.Sprint("dead", i)]
		if len(es) != 1 || es[0]["code"] != float64(1006) || es[0]["reason"] != "node lost" ||
			es[0]["client"].(map[string]any)["node"] != "p1" {
			t.Fatalf("dead%d: events %v, want exactly one 1006 node lost", i, es)
		}
	}
	if len(got) != 4 {
		t.Fatalf("events for %d users, want 4: %v", len(got), got)
	}
}

func TestProxyPrefixOverGoRouteStopsStart(t *testing.T) {
	in := newInstance(t, "MSGO_PROXY_ENDPOINT=http://127.0.0.1:1", "MSGO_PROXY_METHODS=live.user")
	out, err := in.cmd("start")
	if err == nil || !strings.Contains(out, `"live.user"`) || !strings.Contains(out, `"live.user.join"`) {
		t.Fatalf("start: %v\n%s", err, out)
	}
}
