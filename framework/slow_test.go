package framework_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// TestStalledFrameHoldsNoWorker has a client send half a frame and stall
// while another is served, on a node with a single worker: the stalled
// connection must not hold it. The stalled frame completes later.
func TestStalledFrameHoldsNoWorker(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{Workers: 1})
	stalled := srv.Dial(t, user("stalled"))
	other := srv.Dial(t, user("other"))

	msg := frame(true, ws.OpText, echoRequest(1, 4000))
	for _, part := range [][]byte{msg[:1], msg[:6], msg[:2000]} { // in the header, after it, in the payload
		stalled.WriteRaw(t, part)
		for range 20 {
			if r := other.Request(t, "test.echo.echo", nil); r.Status != 200 {
				t.Fatalf("while another client stalls: %+v", r)
			}
		}
		stalled.WriteRaw(t, msg[len(part):])
		if r := stalled.AwaitID(t, json.RawMessage("1")); r.Status != 200 {
			t.Fatalf("the stalled frame, completed: %+v", r)
		}
	}
}

// TestSlowReaderClosed1008 pushes to a client that does not read until its
// write queue overflows: the server closes it with 1008 while another
// client keeps being served, and the slow client, once it reads, finds the
// 1008 close frame after what the kernel buffers held.
//
// The close frame waits behind the bytes already in the socket buffers, so
// it reaches the client only if the client starts reading within
// CloseTimeout; after that the server gives up and the client reads the
// buffered frames, the last one possibly cut short, and then the end of the
// stream (checked by hand: 100 frames, then io.ErrUnexpectedEOF). The test
// reads at once, with a long CloseTimeout.
func TestSlowReaderClosed1008(t *testing.T) {
	t.Parallel()
	srv, p := start(t, framework.Config{WriteQueueBytes: 256 << 10, CloseTimeout: 30 * time.Second})
	slow := dialRaw(t, srv, user("slow"), 8192)
	slow.write(t, frame(true, ws.OpText, []byte(`{"method":"test.hooks.track","id":1}`)))
	var r msgotest.Reply
	if err := json.Unmarshal(slow.next(t).Payload, &r); err != nil || r.Status != 200 {
		t.Fatalf("track: %s %v", r.Info, err)
	}
	var tracked struct{ Conn framework.ConnID }
	r.Decode(t, &tracked)
	other := srv.Dial(t, user("other"))

	f, err := framework.Push("test.flood", map[string]string{"pad": strings.Repeat("x", 32<<10)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pushed := 0
	for p.count(tracked.Conn) == 0 {
		if err := srv.App().SendToUser(ctx, encrypt.TypeWechatUser, "slow", f); err != nil {
			t.Fatal(err)
		}
		if pushed++; pushed%16 == 0 {
			if r := other.Request(t, "test.echo.echo", nil); r.Status != 200 {
				t.Fatalf("another client while one is slow: %+v", r)
			}
		}
		if pushed == 50000 {
			t.Fatal("1.6 GB pushed to a client that does not read, and it is still open")
		}
	}
	if r := other.Request(t, "test.echo.echo", nil); r.Status != 200 {
		t.Fatalf("another client after the slow one was closed: %+v", r)
	}

	code, frames := slow.awaitClose(t)
	if code != 1008 {
		t.Fatalf("slow client read close %d after %d frames, want 1008", code, frames)
	}
	if frames == 0 || frames >= pushed {
		t.Fatalf("slow client read %d of %d pushed frames before the close", frames, pushed)
	}
	t.Logf("pushed %d frames of 32 KiB; the slow client read %d, then 1008", pushed, frames)
}
