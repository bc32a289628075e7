package framework_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
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
// and holds nobody up. The pusher keeps at most a few pushes ahead of the
// slowest reader, so a reader starved of CPU on a busy machine is not taken
// for a slow one.
func TestRoomPushThroughFlushers(t *testing.T) {
	t.Parallel()
	srv, p := start(t, framework.Config{WriteQueueBytes: 128 << 10, CloseTimeout: 30 * time.Second})
	track := frame(true, ws.OpText, []byte(`{"method":"test.hooks.track","id":1}`))
	const readers = 12
	got := make(chan error, readers)
	var read [readers]atomic.Int64 // frames each reader has read
	for i := range readers {
		c := dialRaw(t, srv, user(fmt.Sprint("reader", i)), 0)
		c.write(t, track)
		c.next(t) // joined
		go func() { got <- readSeqs(c, &read[i]) }()
	}
	behind := func(seq int) bool {
		for i := range read {
			if read[i].Load() < int64(seq-4) { // 4 pushes: 64 KiB, half the queue limit
				return true
			}
		}
		return false
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
		if behind(pushed) {
			eventually(t, "the readers catch up", func() bool { return !behind(pushed) })
		}
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
func readSeqs(c *rawClient, read *atomic.Int64) error {
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
		read.Add(1)
	}
}

// TestRepliesQueuedBehindFullSocket pipelines requests to a client that does
// not read until the server's writes back up: replies that had to wait in
// the queue were copied out of the pooled buffer they were encoded in, so
// each one still carries its own id and params once the client reads.
func TestRepliesQueuedBehindFullSocket(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{RateLimit: -1, WriteQueueBytes: 32 << 20})
	c := dialRaw(t, srv, user("pipeliner"), 4096)
	const n = 400
	var reqs [][]byte
	for i := range n {
		reqs = append(reqs, frame(true, ws.OpText, []byte(fmt.Sprintf(
			`{"method":"test.echo.echo","id":%d,"pad":"%d-%s"}`, i, i, strings.Repeat("p", 16000)))))
	}
	go c.Write(slices.Concat(reqs...)) // 6.4 MB: more than the socket buffers hold
	time.Sleep(500 * time.Millisecond) // let the replies back up in the queue
	for i := range n {
		var r struct {
			ID    int
			Param struct{ Pad string }
		}
		if err := json.Unmarshal(c.next(t).Payload, &r); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%d-", i); r.ID != i || !strings.HasPrefix(r.Param.Pad, want) {
			t.Fatalf("reply %d: id %d, pad %.10q", i, r.ID, r.Param.Pad)
		}
	}
}
