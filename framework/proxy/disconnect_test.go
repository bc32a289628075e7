package proxy_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework/msgotest"
	"msgo/framework/proxy"
	"msgo/library/encrypt"
)

// fast retries, so a test of backoff runs in seconds.
var fast = proxy.Config{Disconnect: true, RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, Timeout: time.Second}

// byUser indexes disconnect bodies by their user id.
func byUser(bodies []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, b := range bodies {
		out[b["client"].(map[string]any)["user"].(map[string]any)["id"].(string)] = b
	}
	return out
}

func TestDisconnectCodes(t *testing.T) {
	b := newBackend(t)
	n := startNode(t, b, fast, msgotest.Options{}, sqlEvents(t))
	normal, app, dropped, kicked := n.Dial(t, guest("normal")), n.Dial(t, guest("app")), n.Dial(t, guest("dropped")), n.Dial(t, guest("kicked"))
	time.Sleep(20 * time.Millisecond) // a duration to report
	normal.WriteFrame(t, ws.MaskFrameInPlace(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))))
	normal.AwaitClose(t)
	app.WriteFrame(t, ws.MaskFrameInPlace(ws.NewCloseFrame(ws.NewCloseFrameBody(4001, "logout"))))
	app.AwaitClose(t)
	dropped.Close()
	if _, err := n.App().DisconnectUser(t.Context(), encrypt.TypeWechatUser, "kicked", 1008); err != nil {
		t.Fatal(err)
	}
	kicked.AwaitClose(t)
	got := byUser(b.awaitTaken(t, "/disconnect", 4, 5*time.Second))
	want := map[string]int{"normal": 1000, "app": 4001, "dropped": 1006, "kicked": 1008}
	for id, code := range want {
		e := got[id]
		if e == nil || int(e["code"].(float64)) != code {
			t.Fatalf("%s: event %v, want code %d", id, e, code)
		}
		if e["event_id"] == "" || e["duration_ms"].(float64) < 20 || e["time"].(float64) < float64(time.Now().Add(-time.Minute).UnixMilli()) || e["reason"] == "" {
			t.Fatalf("%s: event %v", id, e)
		}
	}
}

func TestDisconnectRetriedUntilTaken(t *testing.T) {
	b := newBackend(t)
	var up atomic.Bool
	b.handle("/disconnect", unless(&up))
	n := startNode(t, b, fast, msgotest.Options{}, sqlEvents(t))
	const users = 30
	for i := range users {
		n.Dial(t, guest(fmt.Sprint("u", i))).Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, n, "msgo_proxy_disconnect_attempts_total", "result", "failed") < users*2 {
		if time.Now().After(deadline) {
			t.Fatal("no retries")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The stats refresh once a second: wait for one that saw every event.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		pending, oldest := metric(t, n, "msgo_proxy_disconnect_events_pending"), metric(t, n, "msgo_proxy_disconnect_oldest_pending_seconds")
		if pending == users && oldest > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending %v, oldest %v", pending, oldest)
		}
	}
	up.Store(true)
	got := byUser(b.awaitTaken(t, "/disconnect", users, 5*time.Second))
	for i := range users {
		if got[fmt.Sprint("u", i)] == nil {
			t.Fatalf("u%d never delivered", i)
		}
	}
}

// Events stored while the backend is down survive a restart of the node:
// the next run on the same database delivers them.
func TestDisconnectSurvivesRestart(t *testing.T) {
	b := newBackend(t)
	b.handle("/disconnect", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", 503) })
	events := sqlEvents(t)
	n := startNode(t, b, fast, msgotest.Options{}, events)
	for i := range 5 {
		n.Dial(t, guest(fmt.Sprint("u", i))).Close()
	}
	n.Dial(t, guest("open"))
	time.Sleep(300 * time.Millisecond)
	n.Stop()
	n.p.Stop()

	b.handle("/disconnect", nil)
	startNode(t, b, fast, msgotest.Options{}, events)
	got := byUser(b.awaitTaken(t, "/disconnect", 6, 5*time.Second))
	if len(got) != 6 || got["open"]["code"].(float64) != 1001 {
		t.Fatalf("after restart: %v", got)
	}
}

// A run that ended without reporting its connections (kill -9) leaves their
// open records; the next start reports them, 1006 "node lost".
func TestRestartReportsConnectionsLeftOpen(t *testing.T) {
	b := newBackend(t)
	events := sqlEvents(t)
	// The crashed run: it recorded two connections and nothing else.
	for i := range 2 {
		err := events.Opened(t.Context(), proxy.Event{ID: fmt.Sprint("old/boot/", i), Node: "old", Opened: time.Now().Add(-time.Minute).UnixMilli(),
			Client: []byte(fmt.Sprintf(`{"conn":"old/%d","node":"old","ip":"127.0.0.1","user":{"id":"x%d","type":"wechatUser","code":"","nickname":""}}`, i, i))})
		if err != nil {
			t.Fatal(err)
		}
	}
	startNode(t, b, fast, msgotest.Options{}, events)
	got := b.awaitTaken(t, "/disconnect", 2, 5*time.Second)
	for _, e := range got {
		if e["code"].(float64) != proxy.LostCode || e["reason"] != proxy.LostReason || e["duration_ms"].(float64) < 59000 ||
			!strings.HasPrefix(e["event_id"].(string), "old/boot/") {
			t.Fatalf("event %v", e)
		}
	}
}

// Any 2xx takes an event; a body status that is not 2xx does not.
func TestDisconnectAnyTwoHundred(t *testing.T) {
	b := newBackend(t)
	var calls atomic.Int32
	b.handle("/disconnect", func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			answerJSON(`{"status":500}`)(w, r)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	n := startNode(t, b, fast, msgotest.Options{}, sqlEvents(t))
	n.Dial(t, guest("u1")).Close()
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, n, "msgo_proxy_disconnect_attempts_total", "result", "delivered") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered; %d calls", calls.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if calls.Load() != 2 || metric(t, n, "msgo_proxy_disconnect_attempts_total", "result", "failed") != 1 {
		t.Fatalf("%d calls", calls.Load())
	}
}
