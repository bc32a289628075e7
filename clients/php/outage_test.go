package phpclient_test

import (
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestPHPBackendOutageAndKill: with the PHP backend down, a closed
// connection's event waits; msgo is then killed with -9 while another user
// is connected; once the backend and msgo are back, the backend has both
// events exactly once: the close as sent (1000) and the killed connection
// as lost (1006, "node lost").
func TestPHPBackendOutageAndKill(t *testing.T) {
	e := newEnv(t)
	fast := "MSGO_PROXY_RETRY_MAX=1"
	n := e.startNode(t, "k1", fast)
	closedID, lostID := unique("closed"), unique("lost")
	closed := e.dial(t, n, map[string]any{"id": closedID, "type": "wechatUser"})
	closed.Await(t, "sys.connect")
	lost := e.dial(t, n, map[string]any{"id": lostID, "type": "wall"})
	lost.Await(t, "sys.connect")

	kill(e.backend.cmd) // the backend goes down
	closed.WriteFrame(t, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))))
	closed.AwaitClose(t)
	time.Sleep(2 * time.Second) // a few failed attempts
	kill(n.cmd)                 // msgo dies without reporting lost's connection
	lost.Close()
	if evs := e.backend.events(t); len(evs) != 0 {
		t.Fatalf("events while the backend was down: %+v", evs)
	}

	e.backend.start(t)
	e.runNode(t, n, fast)
	got := map[string]event{}
	waitFor(t, "both disconnect events after the restarts", 90*time.Second, func() bool {
		for _, ev := range e.backend.events(t) {
			got[ev.ID] = ev
		}
		return len(got) == 2
	})
	if ev := got[closedID]; ev.Code != 1000 || ev.Node != "k1" {
		t.Errorf("closed connection's event: %+v, want 1000 from k1", ev)
	}
	if ev := got[lostID]; ev.Code != 1006 || ev.Reason != "node lost" {
		t.Errorf("killed connection's event: %+v, want 1006 node lost", ev)
	}
	seen := map[string]bool{}
	for _, ev := range e.backend.events(t) {
		if seen[ev.EventID] {
			t.Errorf("event %s stored twice", ev.EventID)
		}
		seen[ev.EventID] = true
	}
}
