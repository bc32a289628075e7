package main

import (
	"net/http"
	"strings"
	"testing"

	"msgo/framework"
)

// TestDaemonLifecycle drives msgo from a shell's point of view: start -d,
// token, status, a client, stop (clients get 1001), status fails after.
func TestDaemonLifecycle(t *testing.T) {
	in := newInstance(t)
	out := in.must("start", "-d")
	if !strings.Contains(out, "started as pid") {
		t.Fatalf("start -d said: %s", out)
	}
	if _, err := in.cmd("start", "-d"); err == nil {
		t.Fatal("a second start -d succeeded")
	}
	tok := strings.Split(in.must("token", "--id", "u1", "--type", "wechatUser", "--code", "r1"), "\n")
	if len(tok) < 2 || tok[0] == "" || !strings.HasPrefix(tok[1], "ws://") || !strings.Contains(tok[1], "auth=") {
		t.Fatalf("token output: %q", tok)
	}
	c, err := in.dial(framework.Identity{ID: "u1", Type: framework.TypeWechatUser})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, page := range []string{"/live/wall", "/live/join", "/kefu/agent", "/kefu/chat", "/sdk/msgo.js"} {
		resp, err := http.Get("http://" + in.ws + page)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", page, resp.StatusCode)
		}
	}
	if out := in.must("token", "--id", "w", "--type", "wall", "--code", "r1", "--open", "live-wall"); !strings.Contains(out, "http://"+in.ws+"/live/wall#auth=") {
		t.Fatalf("token --open: %s", out)
	}
	st := in.must("status")
	for _, want := range []string{"pid", in.pid(), "connections", "uptime"} {
		if !strings.Contains(st, want) {
			t.Fatalf("status lacks %q:\n%s", want, st)
		}
	}
	in.must("stop")
	if cl := c.AwaitClose(t); cl.Code != 1001 {
		t.Fatalf("client closed with %d, want 1001", cl.Code)
	}
	if _, err := in.cmd("status"); err == nil {
		t.Fatal("status succeeded after stop")
	}
}

func TestTokenTTLAndBadConfig(t *testing.T) {
	in := newInstance(t)
	if _, err := in.cmd("token", "--id", "u", "--type", "wechatUser", "--ttl", "999999"); err == nil {
		t.Fatal("token --ttl over auth.ttl accepted")
	}
	in.env = append(in.env, "MSGO_OUTSIDE_MAX_FRAME_SIZE=-1")
	out, err := in.cmd("start")
	if err == nil || !strings.Contains(out, "MSGO_OUTSIDE_MAX_FRAME_SIZE") {
		t.Fatalf("bad config: err=%v out=%s", err, out)
	}
}
