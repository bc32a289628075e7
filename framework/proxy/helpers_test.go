package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/framework/proxy"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// backend is a real HTTP backend on loopback: each path answers with the
// handler a test set, or {"status":200}, and every body it got is kept.
type backend struct {
	*httptest.Server
	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	bodies   map[string][]map[string]any
	got      chan string
}

func newBackend(t testing.TB) *backend {
	b := &backend{handlers: map[string]http.HandlerFunc{}, bodies: map[string][]map[string]any{}, got: make(chan string, 10000)}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var body map[string]any
		json.Unmarshal(raw, &body)
		b.mu.Lock()
		h := b.handlers[r.URL.Path]
		b.mu.Unlock()
		if h == nil {
			h = answerJSON(`{"status":200}`)
		}
		rec := httptest.NewRecorder()
		h(rec, r)
		if rec.Code == http.StatusOK {
			// Kept only once answered 200: what the backend took.
			b.mu.Lock()
			b.bodies[r.URL.Path] = append(b.bodies[r.URL.Path], body)
			b.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		select {
		case b.got <- r.URL.Path:
		default:
		}
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) handle(path string, h http.HandlerFunc) {
	b.mu.Lock()
	b.handlers[path] = h
	b.mu.Unlock()
}

func (b *backend) taken(path string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]map[string]any(nil), b.bodies[path]...)
}

// awaitTaken waits until the backend took n bodies at path.
func (b *backend) awaitTaken(t testing.TB, path string, n int, within time.Duration) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := b.taken(path)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend took %d %s bodies, want %d", len(got), path, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func answerJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}
}

// node is a test node with a proxy in front of b.
type node struct {
	*msgotest.Server
	p *proxy.Proxy
}

// startNode starts a proxy on cfg (Endpoint set to b) and a node using it.
// events may be nil when cfg.Disconnect is false.
func startNode(t testing.TB, b *backend, cfg proxy.Config, o msgotest.Options, events proxy.Events) *node {
	t.Helper()
	cfg.Endpoint = b.URL
	if o.NodeID == "" {
		o.NodeID = "n" + time.Now().Format("150405.000000")
	}
	p, err := proxy.New(cfg, proxy.Options{Node: o.NodeID, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Backend = p
	s := msgotest.Start(t, o)
	s.Metrics().Registry.MustRegister(p.Collectors()...)
	t.Cleanup(p.Stop) // runs before the server's stop: stop it first
	t.Cleanup(s.Stop)
	return &node{Server: s, p: p}
}

// sqlEvents is a fresh SQLite events store.
func sqlEvents(t testing.TB) *proxy.SQLEvents {
	t.Helper()
	gdb := dbtest.SQLite(t)
	if err := db.Migrate(t.Context(), gdb, proxy.Models()...); err != nil {
		t.Fatal(err)
	}
	return proxy.NewSQLEvents(gdb)
}

func guest(id string) framework.Identity {
	return framework.Identity{ID: id, Type: framework.TypeWechatUser, Code: "room1", Nickname: "nick-" + id}
}

// echoModule is a Go route beside the proxied ones.
func echoModule(r *framework.Router) {
	r.Handle("go.echo.say", func(c *framework.Context) error { return c.Success("go", c.RawParams()) })
}

// metric returns the value of the node's metric name whose labels include
// labels (name=value pairs), 0 when there is none.
func metric(t testing.TB, n *node, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := n.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue next
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return 0
}

// unless answers the backend failing (HTTP 503) until up is set, then 200.
func unless(up *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		answerJSON(`{"status":200}`)(w, r)
	}
}
