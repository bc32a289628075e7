package main

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// TestReloadRefusesNoHandshake reloads a daemonized msgo while a client loop
// keeps opening connections: no handshake fails, every client connected
// before the reload is closed with 1012 and reconnects to the new process.
func TestReloadRefusesNoHandshake(t *testing.T) {
	in := newInstance(t, "MSGO_OUTSIDE_DRAIN_WINDOW=1")
	in.must("start", "-d")
	oldPid := in.pid()

	var before []*msgotest.Client
	for i := range 20 {
		c, err := in.dial(framework.Identity{ID: "pre" + string(rune('a'+i)), Type: encrypt.TypeWechatUser})
		if err != nil {
			t.Fatalf("dial before reload: %v", err)
		}
		defer c.Close()
		before = append(before, c)
	}

	var attempts, failures atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				attempts.Add(1)
				c, err := in.dial(framework.Identity{ID: "loop", Type: encrypt.TypeWall})
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				c.Close()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	out := in.must("reload")
	if !strings.Contains(out, "reloaded") {
		t.Fatalf("reload said: %s", out)
	}
	newPid := in.pid()
	if newPid == oldPid {
		t.Fatalf("pid file still names %s", oldPid)
	}
	for i, c := range before {
		if cl := c.AwaitClose(t); cl.Code != 1012 {
			t.Fatalf("client %d closed with %d, want 1012", i, cl.Code)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d handshakes failed during the reload; first: %v", failures.Load(), attempts.Load(), firstErr.Load())
	}
	t.Logf("%d handshakes during the reload, none refused", attempts.Load())

	c, err := in.dial(framework.Identity{ID: "after", Type: encrypt.TypeWechatUser})
	if err != nil {
		t.Fatalf("reconnect after reload: %v", err)
	}
	defer c.Close()
	if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
		t.Fatalf("whoami after reload: %+v", r)
	}
	if st := in.must("status"); !strings.Contains(st, newPid) {
		t.Fatalf("status does not name the new pid %s:\n%s", newPid, st)
	}
}

// TestReloadOntoBrokenBinaryKeepsServing: when the new binary cannot start,
// reload reports it and the old process keeps serving.
func TestReloadOntoBrokenBinaryKeepsServing(t *testing.T) {
	in := newInstance(t)
	in.must("start", "-d")
	oldPid := in.pid()
	c, err := in.dial(framework.Identity{ID: "u", Type: encrypt.TypeWechatUser})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	good, err := os.ReadFile(in.bin)
	if err != nil {
		t.Fatal(err)
	}
	broken := in.bin + ".new"
	os.WriteFile(broken, []byte("#!/bin/sh\necho broken build >&2\nexit 3\n"), 0o755)
	if err := os.Rename(broken, in.bin); err != nil {
		t.Fatal(err)
	}
	out, err := in.cmd("reload")
	if err == nil || !strings.Contains(out, "keeps serving") {
		t.Fatalf("reload onto a broken binary: err=%v out=%s", err, out)
	}
	// Restore the binary so the commands below (and cleanup) run.
	os.WriteFile(broken, good, 0o755)
	os.Rename(broken, in.bin)
	if in.pid() != oldPid {
		t.Fatalf("pid changed after a failed reload")
	}
	if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
		t.Fatalf("old process stopped serving: %+v", r)
	}
}
