package live_test

import (
	"testing"
	"time"

	"msgo/app/live"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// sessionNode is a lone live node with sessions on, whose window is window.
func sessionNode(t *testing.T, window time.Duration) *msgotest.Server {
	t.Helper()
	gdb := migrated(t, dbtest.SQLite(t))
	return msgotest.Start(t, msgotest.Options{
		Modules:     []msgotest.Module{func(r *framework.Router) { t.Cleanup(live.Register(r, live.Options{DB: gdb})) }},
		Secret:      "live-test-secret",
		Config:      framework.Config{ResumeWindow: window},
		Unavailable: []error{db.ErrUnavailable},
	})
}

// A guest whose network drops and who resumes makes no toast on the wall:
// no live.user.leave, no second live.user.join, and stays in the room. Only
// a session that really ends (its window passed) pushes live.user.leave,
// once.
func TestSessionLeavePushedOnlyWhenSessionEnds(t *testing.T) {
	srv := sessionNode(t, 2*time.Second)
	w := srv.Dial(t, wall("w1", "rs"))
	join(t, w)
	w.AwaitPush(t, "live.user.join") // its own
	g := user("g1", "rs")
	a := srv.Dial(t, g)
	r := a.Request(t, "sys.session.open", nil)
	var o struct{ Session string }
	r.Decode(t, &o)
	join(t, a)
	w.AwaitPush(t, "live.user.join")
	last := a.Request(t, "live.message.send", map[string]any{"content": "before"}).N
	for last < 2 {
		last = a.AwaitPush(t, "live.message").N
	}
	a.Close() // the network drops: no close frame
	for deadline := time.Now().Add(msgotest.DefaultTimeout); srv.DetachedSessions() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the session was not detached")
		}
	}
	b := srv.Dial(t, g)
	rr := b.Request(t, "sys.session.resume", map[string]any{"session": o.Session, "n": last})
	var ans struct{ Resumed bool }
	rr.Decode(t, &ans)
	if !ans.Resumed {
		t.Fatalf("resume answered %s", rr.Param)
	}
	if s := b.Request(t, "live.message.send", map[string]any{"content": "after"}); s.Status != 200 {
		t.Fatalf("send after the resume: %d %s (still in the room?)", s.Status, s.Info)
	}
	msgotest.NoPush(t, quiet, "live.user.leave", "wall", w)
	msgotest.NoPush(t, 0, "live.user.join", "wall", w)

	b.Close() // drops again, and this time nobody comes back
	left := w.AwaitPush(t, "live.user.leave")
	var p struct{ ID string }
	left.Decode(t, &p)
	if p.ID != "g1" {
		t.Fatalf("leave of %q, want g1", p.ID)
	}
	msgotest.NoPush(t, 2500*time.Millisecond, "live.user.leave", "wall", w)
}
