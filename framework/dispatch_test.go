package framework_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// anyFrame matches every frame, so Client.Next returns frames in arrival order.
func anyFrame(msgotest.Reply) bool { return true }

// TestDispatchEnvelope answers every malformed request with 400 and event
// "error", an unknown method with 404 and its lower-cased name, and echoes
// the id verbatim, keeping its JSON type.
func TestDispatchEnvelope(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	cl := srv.Dial(t, user("d"))
	for _, c := range []struct {
		msg    string
		status int
		event  string
		id     string // the raw id of the reply; "" for none
	}{
		{`{bad`, 400, "error", ""},
		{`[1,2]`, 400, "error", ""},
		{`"a string"`, 400, "error", ""},
		{`42`, 400, "error", ""},
		{`null`, 400, "error", ""},
		{`{}`, 400, "error", ""},
		{`{"id":1}`, 400, "error", "1"},
		{`{"id":"a","method":5}`, 400, "error", `"a"`},
		{`{"method":["test.echo.echo"],"id":"b"}`, 400, "error", `"b"`},
		{`{"method":null,"id":2}`, 400, "error", "2"},
		{`{"method":"","id":3}`, 400, "error", "3"},
		{`{"method":"test.echo.echo","id":true}`, 400, "error", ""},
		{`{"method":"test.echo.echo","id":{"x":1}}`, 400, "error", ""},
		{`{"method":"No.Such.Thing","id":"x"}`, 404, "no.such.thing", `"x"`},
		{`{"method":"nothing","id":4}`, 404, "nothing", "4"},
		{`{"method":"TEST.Echo.ECHO","id":"7"}`, 200, "test.echo.echo", `"7"`},
		{`{"method":"test.echo.echo","id":7}`, 200, "test.echo.echo", "7"},
		{`{"method":"test.echo.echo","id":-1.5e3}`, 200, "test.echo.echo", "-1.5e3"},
		{`{"method":"test.echo.echo","id":null}`, 200, "test.echo.echo", ""},
		{`{"method":"test.echo.echo"}`, 200, "test.echo.echo", ""},
		{`{"method":"test.fail.panic","id":"p"}`, 500, "test.fail.panic", `"p"`},
		{`{"method":"test.fail.error","id":8}`, 500, "test.fail.error", "8"},
		{`{"method":"test.fail.unavailable","id":9}`, 503, "test.fail.unavailable", "9"},
		{`{"method":"test.guard.wall","id":10}`, 403, "test.guard.wall", "10"},
	} {
		cl.Write(t, []byte(c.msg))
		r, err := cl.Next(msgotest.DefaultTimeout, anyFrame)
		if err != nil {
			t.Fatalf("%s: %v", c.msg, err)
		}
		if r.Status != c.status || r.Event != c.event || string(r.ID) != c.id {
			t.Errorf("%s: got status %d event %q id %s, want %d %q %s", c.msg, r.Status, r.Event, r.ID, c.status, c.event, c.id)
		}
	}
	// Every one of those left the connection open.
	if r := cl.Request(t, "test.echo.echo", map[string]any{"k": "v"}); r.Status != 200 || string(r.Param) != `{"k":"v"}` {
		t.Fatalf("after the errors: %+v", r)
	}
}

func TestDispatchGuard(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	for typ, want := range map[string]int{framework.TypeWall: 200, framework.TypeWechatUser: 403, framework.TypeKefu: 403} {
		cl := srv.Dial(t, framework.Identity{ID: "g", Type: typ})
		if r := cl.Request(t, "test.guard.wall", nil); r.Status != want {
			t.Errorf("%s calling a wall-only route: %+v, want %d", typ, r, want)
		}
	}
}

var pongShape = regexp.MustCompile(`^\{"status":200,"info":"pong","param":\{"time":(\d+)\},"event":"pong"(,"id":("p1"|42))?\}$`)

// TestPing checks the exact bytes of the built-in ping's answer.
func TestPing(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	c := dialRaw(t, srv, user("ping"), 0)
	for _, msg := range []string{`{"method":"ping"}`, `{"method":"PING","id":"p1"}`, `{"method":"ping","id":42}`} {
		before := time.Now().UnixMilli()
		c.write(t, frame(true, ws.OpText, []byte(msg)))
		f := c.next(t)
		m := pongShape.FindSubmatch(f.Payload)
		if m == nil {
			t.Fatalf("%s answered %s", msg, f.Payload)
		}
		ms, _ := strconv.ParseInt(string(m[1]), 10, 64)
		if ms < before-1000 || ms > time.Now().UnixMilli()+1000 {
			t.Fatalf("pong time %d is not now (%d) in unix milliseconds", ms, before)
		}
	}
}

// Ping frames (the control frame, not the ping method) draw on the same
// budget as messages: over it each answers 429 with event "ping" instead of
// a pong, the connection stays, and a message then finds the bucket empty.
func TestRateLimitCountsPingFrames(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{RateLimit: 5})
	cl := srv.Dial(t, user("pinger"))
	const n = 20
	var b []byte
	for range n {
		b = append(b, frame(true, ws.OpPing, []byte("p"))...)
	}
	b = append(b, frame(true, ws.OpText, []byte(`{"method":"test.echo.echo","id":1}`))...)
	cl.WriteRaw(t, b)
	if r := cl.AwaitID(t, json.RawMessage("1")); r.Status != 429 {
		t.Errorf("a message after %d ping frames under 5/s: %d, want 429", n, r.Status)
	}
	limited := 0
	for _, r := range cl.Frames() {
		if r.Event == "ping" && r.Status == 429 && len(r.ID) == 0 {
			limited++
		}
	}
	if limited < n-6 { // a burst of 5, and maybe one more refilled meanwhile
		t.Errorf("%d ping frames at once under 5/s: %d answered 429", n, limited)
	}
	eventually(t, "the bucket refills", func() bool {
		time.Sleep(100 * time.Millisecond)
		return cl.Request(t, "ping", nil).Status == 200
	})
}

// TestRateLimit answers 429 over the per-connection rate and keeps the
// connection; the bucket refills.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{RateLimit: 5})
	cl := srv.Dial(t, user("rl"))
	const n = 15
	if limited := burst(t, cl, "Test.Echo.Echo", n); limited == 0 {
		t.Fatalf("%d requests at once under a limit of 5/s: none refused", n)
	}
	eventually(t, "the bucket refills", func() bool {
		time.Sleep(100 * time.Millisecond)
		return cl.Request(t, "ping", nil).Status == 200
	})
}
