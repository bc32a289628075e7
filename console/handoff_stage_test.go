package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// TestReloadBringsStagedConnectionsUpToDate: a reload adopts every
// connection once before its pause and brings each up to date in it. What
// changes in between is what the new process serves: rooms joined then
// are pushed to, connections closed then are gone (not counted, not
// pushed to, not closed again), connections opened then are adopted with
// their sockets. The old binary waits between the two until the test has
// made its changes (fault "stage-gap").
func TestReloadBringsStagedConnectionsUpToDate(t *testing.T) {
	in := newInstance(t)
	in.installBinary(faultBinary(t, "stage-gap"))
	in.must("start", "-d")
	in.logOnFailure()
	ids := func(prefix, room string) func(int) framework.Identity {
		return func(i int) framework.Identity {
			return framework.Identity{ID: prefix + strconv.Itoa(i), Type: encrypt.TypeWechatUser, Code: room}
		}
	}
	join := func(cs []*msgotest.Client) {
		t.Helper()
		for _, c := range cs {
			if r := c.Request(t, "live.user.join", nil); r.Status != 200 {
				t.Fatalf("join: %+v", r)
			}
		}
	}
	stay := dialMany(t, in, 10, ids("s", "x"))
	leavers := dialMany(t, in, 5, ids("l", "x"))
	joiners := dialMany(t, in, 10, ids("j", "y"))
	join(stay)
	join(leavers)

	in.installBinary(binary)
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := in.cmd("reload")
		done <- result{out, err}
	}()
	waitLog(t, in, "staged before the pause")
	join(joiners)
	for _, c := range leavers {
		c.Close()
	}
	late := dialMany(t, in, 5, ids("n", "y"))
	join(late)
	if err := os.WriteFile(filepath.Join(in.dir, "runtime", "stage-gap-done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	r := <-done
	if r.err != nil || !strings.Contains(r.out, "25 connections handed over") {
		t.Fatalf("reload: %v\n%s", r.err, r.out)
	}
	waitLog(t, in, "closed_meanwhile=5")
	if n := counter(t, in, "msgo_connections"); n != 25 {
		t.Fatalf("%v connections after the reload, want 25", n)
	}
	push := func(room, event string) {
		t.Helper()
		callManager(t, in, "POST", "/api/send/room", map[string]any{"room": room, "event": event, "param": map[string]any{}})
	}
	push("x", "test.x")
	push("y", "test.y")
	for _, c := range stay {
		c.AwaitPush(t, "test.x")
	}
	for _, c := range append(joiners, late...) {
		c.AwaitPush(t, "test.y")
	}
	// The push to x went first: a client outside x would have it by now.
	for _, c := range append(joiners, late...) {
		for _, f := range c.Frames() {
			if f.Event == "test.x" {
				t.Fatal("a client outside room x got its push")
			}
		}
	}
	for _, c := range append(append(stay, joiners...), late...) {
		if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
			t.Fatalf("after the reload: %+v", r)
		}
	}
	// The leavers' closes ran in the old process, once: the new process
	// neither closed their copies as connections nor ran their hooks.
	if n := counter(t, in, `msgo_closes_total{code="1006"}`); n != 5 {
		t.Fatalf("%v closes without a close frame, want the leavers' 5", n)
	}
}

// waitLog waits until the daemon's log holds s.
func waitLog(t *testing.T, in *instance, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(in.dir, "runtime", "msgo.out"))
		if strings.Contains(string(b), s) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the log never said %q", s)
}
