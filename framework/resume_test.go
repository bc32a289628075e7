package framework_test

import (
	"context"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// sessionConfig is a node's config with sessions on.
func sessionConfig(window time.Duration, buffer int) framework.Config {
	return framework.Config{ResumeWindow: window, ResumeBufferBytes: buffer}
}

type opened struct {
	Session string `json:"session"`
	Window  int    `json:"window"`
}

type resumed struct {
	Resumed  bool    `json:"resumed"`
	Received *uint64 `json:"received"`
}

// openSession opens a session on cl and returns its id.
func openSession(t *testing.T, cl *msgotest.Client) string {
	t.Helper()
	r := cl.Request(t, "sys.session.open", nil)
	var o opened
	r.Decode(t, &o)
	if r.Status != 200 || len(o.Session) != 32 || r.N != 0 {
		t.Fatalf("sys.session.open answered %d %+v n=%d", r.Status, o, r.N)
	}
	return o.Session
}

// resume sends sys.session.resume on cl and returns the answer.
func resume(t *testing.T, cl *msgotest.Client, session string, n uint64) (msgotest.Reply, resumed) {
	t.Helper()
	r := cl.Request(t, "sys.session.resume", map[string]any{"session": session, "n": n})
	var a resumed
	if r.Status == 200 {
		r.Decode(t, &a)
	}
	return r, a
}

// trackConn registers the probe's close hooks on cl and returns its id.
func trackConn(t *testing.T, cl *msgotest.Client) framework.ConnID {
	t.Helper()
	var p struct{ Conn framework.ConnID }
	cl.Request(t, "test.hooks.track", nil).Decode(t, &p)
	return p.Conn
}

func pushProbe(t *testing.T, srv *msgotest.Server, i int) {
	t.Helper()
	f, err := framework.Push("test.tick", map[string]int{"i": i})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App().SendToGroup(context.Background(), probeGroup, f); err != nil {
		t.Fatal(err)
	}
}

// A dropped connection resumed on a new one: the same connection id, no
// close hook, every push numbered once and in order, received counts reads.
func TestSessionResumeKeepsConnection(t *testing.T) {
	srv, p := start(t, sessionConfig(10*time.Second, 0))
	u := user("s1")
	a := srv.Dial(t, u)
	sid := openSession(t, a)
	id := trackConn(t, a) // numbered 1
	for i := range 3 {
		pushProbe(t, srv, i) // 2, 3, 4
	}
	var last uint64
	for range 3 {
		last = a.AwaitPush(t, "test.tick").N
	}
	if last != 4 {
		t.Fatalf("last push numbered %d, want 4", last)
	}
	a.Close() // no close frame
	eventually(t, "the session is detached", func() bool { return detachedCount(srv) == 1 })
	for i := 3; i < 6; i++ {
		pushProbe(t, srv, i) // 5, 6, 7 kept
	}
	b := srv.Dial(t, u)
	r, ans := resume(t, b, sid, last)
	if !ans.Resumed || ans.Received == nil || *ans.Received != 1 || r.N != 0 {
		t.Fatalf("resume answered %d %s n=%d", r.Status, r.Param, r.N)
	}
	for want := uint64(5); want <= 7; want++ {
		f := b.AwaitPush(t, "test.tick")
		var v struct{ I int }
		f.Decode(t, &v)
		if f.N != want || v.I != int(want)-2 {
			t.Fatalf("replayed push n=%d i=%d, want n=%d i=%d", f.N, v.I, want, want-2)
		}
	}
	if got := trackConn(t, b); got != id {
		t.Fatalf("resumed connection id %d, want %d", got, id)
	}
	if n := p.count(id); n != 0 {
		t.Fatalf("close controller ran %d times on a resumed session", n)
	}
	pushProbe(t, srv, 9)
	if f := b.AwaitPush(t, "test.tick"); f.N != 9 {
		t.Fatalf("live push after the replay numbered %d, want 9", f.N)
	}
}

// detachedCount is how many sessions wait for a resume: connections whose
// socket is gone.
func detachedCount(srv *msgotest.Server) int { return srv.DetachedSessions() }

// A window that passes ends the session: the close controller runs once.
func TestSessionExpiryRunsCloseOnce(t *testing.T) {
	srv, p := start(t, sessionConfig(time.Second, 0))
	u := user("s2")
	a := srv.Dial(t, u)
	sid := openSession(t, a)
	id := trackConn(t, a)
	a.Close()
	eventually(t, "the close controller ran", func() bool { return p.count(id) == 1 })
	b := srv.Dial(t, u)
	if _, ans := resume(t, b, sid, 1); ans.Resumed {
		t.Fatal("an expired session resumed")
	}
	time.Sleep(1500 * time.Millisecond)
	if n := p.count(id); n != 1 {
		t.Fatalf("close controller ran %d times, want 1", n)
	}
}

// Frames past the buffer end a detached session at once.
func TestSessionOverflowEnds(t *testing.T) {
	srv, p := start(t, sessionConfig(time.Minute, 1024))
	a := srv.Dial(t, user("s3"))
	openSession(t, a)
	id := trackConn(t, a)
	a.Close()
	eventually(t, "the session is detached", func() bool { return detachedCount(srv) == 1 })
	for i := 0; p.count(id) == 0 && i < 100; i++ {
		pushProbe(t, srv, i)
	}
	eventually(t, "the close controller ran", func() bool { return p.count(id) == 1 })
}

// Another user's resume is refused with 403 and the session stays for its
// owner; an unknown session is resumed:false.
func TestSessionResumeRefused(t *testing.T) {
	srv, p := start(t, sessionConfig(time.Minute, 0))
	a := srv.Dial(t, user("s4"))
	sid := openSession(t, a)
	id := trackConn(t, a)
	a.Close()
	eventually(t, "the session is detached", func() bool { return detachedCount(srv) == 1 })
	thief := srv.Dial(t, user("s5"))
	if r, _ := resume(t, thief, sid, 1); r.Status != 403 {
		t.Fatalf("another user's resume answered %d, want 403", r.Status)
	}
	if r, ans := resume(t, thief, "00000000000000000000000000000000", 0); r.Status != 200 || ans.Resumed {
		t.Fatalf("unknown session answered %d %s", r.Status, r.Param)
	}
	b := srv.Dial(t, user("s4"))
	if _, ans := resume(t, b, sid, 1); !ans.Resumed {
		t.Fatal("the owner could not resume after a refused resume")
	}
	if p.count(id) != 0 {
		t.Fatal("a refused resume ended the session")
	}
}

// A resume of a session whose socket is still open takes it over: the old
// socket is closed with 1008, the session goes on on the new one.
func TestSessionResumeTakesOver(t *testing.T) {
	srv, p := start(t, sessionConfig(time.Minute, 0))
	u := user("s6")
	a := srv.Dial(t, u)
	sid := openSession(t, a)
	id := trackConn(t, a)
	b := srv.Dial(t, u)
	if _, ans := resume(t, b, sid, 1); !ans.Resumed {
		t.Fatal("takeover did not resume")
	}
	if c := a.AwaitClose(t); c.Code != 1008 {
		t.Fatalf("the old socket closed with %d, want 1008", c.Code)
	}
	if got := trackConn(t, b); got != id || p.count(id) != 0 {
		t.Fatalf("after takeover: conn %d (want %d), close controller ran %d times", got, id, p.count(id))
	}
}

// Requests read before the drop are counted in received; what the client
// sent after is resent and read once.
func TestSessionReceivedCountsReads(t *testing.T) {
	srv, _ := start(t, sessionConfig(time.Minute, 0))
	u := user("s7")
	a := srv.Dial(t, u)
	sid := openSession(t, a)
	var last uint64
	for i := range 5 {
		last = a.Request(t, "test.echo.echo", map[string]any{"k": i}).N
	}
	a.Close()
	eventually(t, "the session is detached", func() bool { return detachedCount(srv) == 1 })
	b := srv.Dial(t, u)
	_, ans := resume(t, b, sid, last)
	if !ans.Resumed || *ans.Received != 5 {
		t.Fatalf("resume: %+v, want received 5", ans)
	}
	r := b.Request(t, "test.echo.echo", map[string]any{"k": 5})
	if r.N != last+1 {
		t.Fatalf("next reply numbered %d, want %d", r.N, last+1)
	}
}
