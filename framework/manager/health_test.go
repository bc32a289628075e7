package manager_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"

	"msgo/framework/manager"
)

func TestHealthAndReadiness(t *testing.T) {
	srv := startNode(t, "n1", nil)
	var dbDown error
	m := serve(t, srv, manager.Options{Ready: func(ctx context.Context) error { return dbDown }})

	var h struct{ Status string }
	decode(t, m.do(t, "GET", "/healthz", nil, ""), &h)
	if h.Status != "alive" {
		t.Fatalf("/healthz data %+v", h)
	}
	if ans := m.do(t, "GET", "/readyz", nil, ""); ans.status != 200 || ans.Message != "success" {
		t.Fatalf("/readyz: %d %q", ans.status, ans.Message)
	}

	dbDown = errors.New("database: dial tcp 127.0.0.1:3306: connection refused")
	if ans := m.do(t, "GET", "/readyz", nil, ""); ans.status != 503 || !strings.Contains(ans.Message, "connection refused") {
		t.Fatalf("/readyz with the database down: %d %q", ans.status, ans.Message)
	}
	dbDown = nil

	srv.Stop() // draining: the node no longer accepts
	if ans := m.do(t, "GET", "/readyz", nil, ""); ans.status != 503 || ans.Message != "not ready: draining" {
		t.Fatalf("/readyz while draining: %d %q", ans.status, ans.Message)
	}
	if ans := m.do(t, "GET", "/healthz", nil, ""); ans.status != 200 {
		t.Fatalf("/healthz while draining: %d", ans.status)
	}
}

func TestReadinessPingsTheStoreByDefault(t *testing.T) {
	store := memoryStore(t)
	srv := startNode(t, "n1", store)
	m := serve(t, srv, manager.Options{})
	cl := dial(t, srv, "u1", "wechatUser")
	if ans := m.do(t, "GET", "/readyz", nil, ""); ans.status != 200 {
		t.Fatalf("/readyz: %d %q", ans.status, ans.Message)
	}
	store.Close() // the store is gone
	if ans := m.do(t, "GET", "/readyz", nil, ""); ans.status != 503 || !strings.HasPrefix(ans.Message, "not ready: ") {
		t.Fatalf("/readyz with the store closed: %d %q", ans.status, ans.Message)
	}
	// Status still answers, with the local figures and why the cluster's are missing.
	var st struct {
		NodeID       string          `json:"node_id"`
		Cluster      json.RawMessage `json:"cluster"`
		ClusterError string          `json:"cluster_error"`
	}
	m.get(t, "/api/status", &st)
	if st.NodeID != "n1" || string(st.Cluster) != "null" || st.ClusterError == "" {
		t.Fatalf("status with the store closed: %+v", st)
	}
	// Calls that need the store answer 503.
	if ans := m.do(t, "GET", "/api/online/count", nil, "Bearer "+token); ans.status != 503 || !strings.HasPrefix(ans.Message, "service unavailable: ") {
		t.Fatalf("online/count with the store closed: %d %q", ans.status, ans.Message)
	}
	// A push still reaches this node's connections, and says how many.
	ans := m.do(t, "POST", "/api/send/user", map[string]any{"id": "u1", "event": "e", "param": map[string]any{}}, "Bearer "+token)
	var d struct{ Delivered int }
	decode(t, ans, &d)
	if ans.status != 503 || d.Delivered != 1 {
		t.Fatalf("send/user with the store closed: %d %q %s", ans.status, ans.Message, ans.Data)
	}
	cl.Await(t, "e")
}

func TestStatusFields(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{Version: "1.2.3"})
	dial(t, srv, "u1", "wechatUser")
	dial(t, srv, "u1", "wechatUser")
	dial(t, srv, "w1", "wall")
	var st map[string]any
	m.get(t, "/api/status", &st)
	for _, k := range []string{"node_id", "version", "go_version", "pid", "started", "uptime", "draining", "connections",
		"users", "rooms", "goroutines", "memory", "cluster", "nodes"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status has no %q: %v", k, st)
		}
	}
	mem, _ := st["memory"].(map[string]any)
	cl, _ := st["cluster"].(map[string]any)
	nodes, _ := st["nodes"].([]any)
	if st["node_id"] != "n1" || st["version"] != "1.2.3" || st["go_version"] != runtime.Version() || st["pid"] != float64(os.Getpid()) ||
		st["connections"] != float64(3) || st["users"] != float64(2) || st["rooms"] != float64(0) || st["draining"] != false ||
		st["goroutines"].(float64) < 1 || st["uptime"].(float64) < 0 ||
		mem["sys"].(float64) <= 0 || mem["heap_alloc"].(float64) <= 0 || mem["rss"].(float64) <= 0 ||
		cl["nodes"] != float64(1) || cl["connections"] != float64(3) || cl["users"] != float64(2) || len(nodes) != 1 {
		t.Fatalf("status = %v", st)
	}
}

func TestPprofBehindTheToken(t *testing.T) {
	srv := startNode(t, "n1", nil)
	on := serve(t, srv, manager.Options{Pprof: true})
	off := serve(t, srv, manager.Options{})
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/heap", "/debug/pprof/cmdline", "/debug/pprof/symbol"} {
		if ans := on.do(t, "GET", p, nil, "Bearer "+token); ans.status != http.StatusOK || len(ans.Data) == 0 {
			t.Errorf("pprof on, %s: %d", p, ans.status)
		}
		if ans := on.do(t, "GET", p, nil, ""); ans.status != http.StatusUnauthorized {
			t.Errorf("pprof on, %s without token: %d", p, ans.status)
		}
		if ans := off.do(t, "GET", p, nil, "Bearer "+token); ans.status != http.StatusNotFound {
			t.Errorf("pprof off, %s: %d", p, ans.status)
		}
	}
}
