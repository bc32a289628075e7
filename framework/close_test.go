package framework_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

func TestStopCloses1001(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	a, b := srv.Dial(t, user("a")), srv.Dial(t, user("b"))
	go srv.Stop()
	for _, cl := range []*msgotest.Client{a, b} {
		if got := cl.AwaitClose(t); got.Code != 1001 {
			t.Fatalf("closed with %d, want 1001", got.Code)
		}
	}
}

func TestIdleCloses4000(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{IdleTimeout: time.Second})
	cl := srv.Dial(t, user("idle"))
	if got := cl.AwaitClose(t); got.Code != 4000 {
		t.Fatalf("closed with %d, want 4000", got.Code)
	}
}

// TestIdleKeepsActive keeps a connection that sends a frame (a control
// frame is enough) more often than the idle timeout.
func TestIdleKeepsActive(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{IdleTimeout: 2 * time.Second})
	c := dialRaw(t, srv, user("active"), 0)
	for range 4 {
		time.Sleep(1500 * time.Millisecond)
		c.write(t, frame(true, ws.OpPing, []byte("hb")))
		if f := c.next(t); f.Header.OpCode != ws.OpPong {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			t.Fatalf("silent for 1.5 s under an idle timeout of 2 s: got %v %d", f.Header.OpCode, code)
		}
	}
}

// TestCloseHooksOnce closes a connection that registered a close controller,
// a close key and a group in each way a connection can close, and checks
// that the controller ran once and the key and group no longer hold it.
func TestCloseHooksOnce(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		cfg   framework.Config
		close func(t *testing.T, srv *msgotest.Server, id framework.ConnID, cl *rawClient)
	}{
		{"client close frame", framework.Config{}, func(t *testing.T, _ *msgotest.Server, _ framework.ConnID, cl *rawClient) {
			cl.write(t, closeFrame(ws.NewCloseFrameBody(1000, "bye")))
			if code, _ := cl.awaitClose(t); code != 1000 {
				t.Errorf("close echoed with %d", code)
			}
		}},
		{"client drops TCP", framework.Config{}, func(t *testing.T, _ *msgotest.Server, _ framework.ConnID, cl *rawClient) {
			cl.Close()
		}},
		{"idle", framework.Config{IdleTimeout: time.Second}, func(t *testing.T, _ *msgotest.Server, _ framework.ConnID, cl *rawClient) {
			if code, _ := cl.awaitClose(t); code != 4000 {
				t.Errorf("closed with %d, want 4000", code)
			}
		}},
		{"kick", framework.Config{}, func(t *testing.T, srv *msgotest.Server, id framework.ConnID, cl *rawClient) {
			if err := srv.App().Close(id, 1008, "kicked"); err != nil {
				t.Fatal(err)
			}
			if code, _ := cl.awaitClose(t); code != 1008 {
				t.Errorf("closed with %d, want 1008", code)
			}
		}},
		{"server stop", framework.Config{}, func(t *testing.T, srv *msgotest.Server, _ framework.ConnID, cl *rawClient) {
			go srv.Stop()
			if code, _ := cl.awaitClose(t); code != 1001 {
				t.Errorf("closed with %d, want 1001", code)
			}
		}},
		{"write queue overflow", framework.Config{WriteQueueBytes: 64 << 10}, func(t *testing.T, srv *msgotest.Server, id framework.ConnID, _ *rawClient) {
			overflow(t, srv, id)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, p := start(t, c.cfg)
			cl := dialRaw(t, srv, user("hooked"), 4096)
			cl.write(t, frame(true, ws.OpText, []byte(`{"method":"test.hooks.track","id":1}`)))
			var r msgotest.Reply
			if err := json.Unmarshal(cl.next(t).Payload, &r); err != nil || r.Status != 200 {
				t.Fatalf("track: %+v %v", r, err)
			}
			var tracked struct{ Conn framework.ConnID }
			r.Decode(t, &tracked)
			id, app := tracked.Conn, srv.App()
			ctx := context.Background()
			if n, _ := app.GroupCount(ctx, probeGroup); n != 1 || !app.InGroup(id, probeGroup) {
				t.Fatalf("after track: group count %d, in group %v", n, app.InGroup(id, probeGroup))
			}

			c.close(t, srv, id, cl)
			cl.Close() // release now, not after the close timeout

			eventually(t, "the close controller ran", func() bool { return p.count(id) > 0 })
			eventually(t, "the connection is released", func() bool { return srv.Connections() == 0 })
			if n := p.count(id); n != 1 {
				t.Fatalf("close controller ran %d times", n)
			}
			members, err := app.CloseKeyMembers(ctx, probeKey)
			if err != nil || slices.Contains(members, framework.Addr{Node: srv.NodeID(), ID: id}) {
				t.Fatalf("close key still holds the connection: %v %v", members, err)
			}
			if n, err := app.GroupCount(ctx, probeGroup); n != 0 || err != nil || app.InGroup(id, probeGroup) {
				t.Fatalf("group still holds the connection: count %d %v", n, err)
			}
			if online, _ := app.IsOnline(ctx, encrypt.TypeWechatUser, "hooked"); online {
				t.Fatal("user still online")
			}
		})
	}
}

// overflow pushes large frames to connection id, whose client does not
// read, until the server closes it for its full write queue.
func overflow(t *testing.T, srv *msgotest.Server, id framework.ConnID) {
	t.Helper()
	f, err := framework.Push("test.flood", map[string]string{"pad": strings.Repeat("x", 16<<10)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if srv.App().Send(id, f) != nil {
			return
		}
		if i == 100000 {
			t.Fatal("1.6 GB pushed to a client that does not read, and it is still open")
		}
	}
}
