package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// TestReloadCarriesDetachedSessions: two clients with a session in a room
// drop their network; pushes go on to the room; the server reloads. One
// client resumes on the new process: resumed:true, and every push exactly
// once and in order, across its two connections. The other never comes
// back: its session expires in the new process, and its room hears it leave
// exactly once. A third session, open across the reload, stays resumable.
func TestReloadCarriesDetachedSessions(t *testing.T) {
	const window = 8
	in := newInstance(t, "MSGO_OUTSIDE_RESUME_WINDOW="+strconv.Itoa(window))
	in.must("start", "-d")
	in.logOnFailure()
	wall, err := in.dial(framework.Identity{ID: "watcher", Type: encrypt.TypeWall, Code: "rs"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wall.Close)
	if r := wall.Request(t, "live.user.join", nil); r.Status != 200 {
		t.Fatalf("wall join: %+v", r)
	}
	open := func(id string) (*msgotest.Client, string) {
		c, err := in.dial(framework.Identity{ID: id, Type: encrypt.TypeWechatUser, Code: "rs"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		var p struct{ Session string }
		c.Request(t, "sys.session.open", nil).Decode(t, &p)
		if r := c.Request(t, "live.user.join", nil); r.Status != 200 {
			t.Fatalf("%s join: %+v", id, r)
		}
		return c, p.Session
	}
	keeper, session := open("keeper")
	leaver, _ := open("leaver")
	stayer, stayed := open("stayer")

	stop, done := make(chan struct{}), make(chan struct{})
	pushed := 0
	go func() {
		defer close(done)
		hc := &http.Client{Timeout: 30 * time.Second}
		for ; ; pushed++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			body := fmt.Sprintf(`{"room":"rs","event":"test.seq","param":{"n":%d}}`, pushed)
			resp, err := hc.Post("http://"+in.mgr+"/api/send/room", "application/json", strings.NewReader(body))
			if err != nil {
				t.Errorf("push %d: %v", pushed, err)
				return
			}
			resp.Body.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	keeper.Close() // the network drops: no close frame
	leaver.Close()
	time.Sleep(100 * time.Millisecond) // what was in flight has arrived or is lost
	var seqs []int
	var last uint64
	for _, r := range keeper.Frames() {
		last = max(last, r.N)
		if r.Event == "test.seq" && len(r.ID) == 0 {
			var p struct{ N int }
			r.Decode(t, &p)
			seqs = append(seqs, p.N)
		}
	}
	time.Sleep(300 * time.Millisecond) // pushes kept for the detached sessions
	dropped := time.Now()
	if out := in.must("reload"); !pauseRE.MatchString(out) {
		t.Fatalf("reload: %s", out)
	}
	time.Sleep(300 * time.Millisecond)

	resume := func(id, session string, last uint64) *msgotest.Client {
		c, err := in.dial(framework.Identity{ID: id, Type: encrypt.TypeWechatUser, Code: "rs"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		c.Write(t, fmt.Appendf(nil, `{"method":"sys.session.resume","id":"resume","session":%q,"n":%d}`, session, last))
		var a struct{ Resumed bool }
		c.AwaitID(t, []byte(`"resume"`)).Decode(t, &a)
		if !a.Resumed {
			t.Fatalf("%s: resume after the reload: %+v", id, a)
		}
		return c
	}
	back := resume("keeper", session, last)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-done
	if t.Failed() {
		return
	}
	got := pushesOf(t, back, "test.seq", len(seqs), pushed-len(seqs))
	for k, n := range append(seqs, got...) {
		if n != k {
			t.Fatalf("push %d is n=%d: before the drop %v, after the resume %v", k, n, seqs, got)
		}
	}
	if total := len(seqs) + len(got); total != pushed {
		t.Fatalf("%d of %d pushes: before the drop %v, after the resume %v", total, pushed, seqs, got)
	}
	if r := back.Request(t, "index.index.whoami", nil); r.Status != 200 {
		t.Fatalf("resumed session: %+v", r)
	}
	stayer.Close()
	time.Sleep(100 * time.Millisecond)
	last = 0
	for _, r := range stayer.Frames() {
		last = max(last, r.N)
	}
	resume("stayer", stayed, last)

	// The leaver's window ends in the new process: it leaves once.
	r, err := wall.Next(time.Until(dropped.Add((window+10)*time.Second)), msgotest.IsPush("live.user.leave"))
	if err != nil {
		t.Fatalf("no live.user.leave for the expired session: %v", err)
	}
	var p struct{ ID string }
	r.Decode(t, &p)
	if p.ID != "leaver" {
		t.Fatalf("live.user.leave for %q, want leaver", p.ID)
	}
	msgotest.NoPush(t, 2*time.Second, "live.user.leave", "wall", wall)
	t.Logf("%d pushes, %d before the drop, %d after the resume; the leaver expired after %s", pushed, len(seqs), len(got), time.Since(dropped).Round(100*time.Millisecond))
}
