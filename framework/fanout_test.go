package framework_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// TestRoomPushThroughFlushers pushes a stream of frames to a group too big to
// be written inline, so every push is queued and written by the flushers:
// every reading member gets every frame once and in order, however the
// writes were batched, while a member that does not read is closed with 1008
// and holds nobody up.
func TestRoomPushThroughFlushers(t *testing.T) {
	t.Parallel()
	srv, p := start(t, framework.Config{WriteQueueBytes: 128 << 10, CloseTimeout: 30 * time.Second})
	track := frame(true, ws.OpText, []byte(`{"method":"test.hooks.track","id":1}`))
	const readers = 12
	got := make(chan error, readers)
	for i := range readers {
		c := dialRaw(t, srv, user(fmt.Sprint("reader", i)), 0)
		c.write(t, track)
		c.next(t) // joined
		go func() { got <- readSeqs(c) }()
	}
	slow := dialRaw(t, srv, user("slow"), 8192)
	slow.write(t, track)
	var r msgotest.Reply
	if err := json.Unmarshal(slow.next(t).Payload, &r); err != nil || r.Status != 200 {
		t.Fatalf("track: %s %v", r.Info, err)
	}
	var tracked struct{ Conn framework.ConnID }
	r.Decode(t, &tracked)

	push := func(event string, seq int, pad string) {
		f, err := framework.Push(event, map[string]any{"seq": seq, "pad": pad})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.App().SendToGroup(context.Background(), probeGroup, f); err != nil {
			t.Fatal(err)
		}
	}
	pad := strings.Repeat("x", 16<<10)
	pushed := 0
	for p.count(tracked.Conn) == 0 {
		push("test.seq", pushed, pad)
		if pushed++; pushed == 20000 {
			t.Fatal("320 MB pushed to a member that does not read, and it is still open")
		}
	}
	push("test.end", pushed, "")
	for range readers {
		if err := <-got; err != nil {
			t.Error(err)
		}
	}
	if code, _ := slow.awaitClose(t); code != 1008 {
		t.Fatalf("the member that does not read was closed with %d, want 1008", code)
	}
	t.Logf("%d pushes of 16 KiB to %d members", pushed, readers+1)
}

// readSeqs reads test.seq pushes up to test.end and reports a gap, a
// duplicate or a reorder.
func readSeqs(c *rawClient) error {
	for want := 0; ; want++ {
		c.SetReadDeadline(time.Now().Add(msgotest.DefaultTimeout))
		f, err := ws.ReadFrame(c.r)
		if err != nil {
			return fmt.Errorf("after seq %d: %w", want-1, err)
		}
		var push struct {
			Event string
			Param struct{ Seq int }
		}
		if err := json.Unmarshal(f.Payload, &push); err != nil {
			return fmt.Errorf("after seq %d: frame %.60q: %w", want-1, f.Payload, err)
		}
		if push.Param.Seq != want {
			return fmt.Errorf("got %s %d, want seq %d", push.Event, push.Param.Seq, want)
		}
		if push.Event == "test.end" {
			return nil
		}
	}
}
