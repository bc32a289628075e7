package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// TestReloadKeepsCrossNodePushes: two nodes on one Redis; node A's manager
// port pushes to rooms whose members are on node B, and to B's users by id,
// every 15 ms, while B reloads three times: the bus cut-over is exact, so
// every member receives every push exactly once and in order, and no client
// is closed.
func TestReloadKeepsCrossNodePushes(t *testing.T) {
	const members, rooms = 40, 2
	env, _ := clusterEnv(t)
	a := newInstance(t, append(env, "MSGO_NODE_ID=pa")...)
	b := newInstance(t, append(env, "MSGO_NODE_ID=pb")...)
	a.must("start", "-d")
	b.must("start", "-d")
	a.logOnFailure()
	b.logOnFailure()
	clients := dialMany(t, b, members, func(i int) framework.Identity {
		return framework.Identity{ID: "m" + strconv.Itoa(i), Type: encrypt.TypeWechatUser, Code: "r" + strconv.Itoa(i%rooms)}
	})
	ids := make([]string, members)
	for i, c := range clients {
		if r := c.Request(t, "live.user.join", nil); r.Status != 200 {
			t.Fatalf("join: %+v", r)
		}
		ids[i] = "m" + strconv.Itoa(i)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	post := func(path string, body any) (int, error) {
		raw, _ := json.Marshal(body)
		resp, err := hc.Post("http://"+a.mgr+path, "application/json", strings.NewReader(string(raw)))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var out struct{ Data struct{ Delivered int } }
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("%s: %s", path, resp.Status)
		}
		return out.Data.Delivered, nil
	}
	// Node A knows B's rooms once a push to them reaches every member.
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := post("/api/send/users", map[string]any{"ids": ids, "type": encrypt.TypeWechatUser, "event": "test.warm", "param": map[string]any{}})
		if err == nil && n == members {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node A reaches %d of %d members on B (%v)", n, members, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// One pusher per room and one to the users by id, each every 15 ms in
	// its own order: pushed[r] for room r, pushed[rooms] to the users.
	stop := make(chan struct{})
	pushed := make([]int, rooms+1)
	var wg sync.WaitGroup
	for k := range pushed {
		wg.Go(func() {
			for ; ; pushed[k]++ {
				select {
				case <-stop:
					return
				case <-time.After(15 * time.Millisecond):
				}
				param := map[string]any{"n": pushed[k]}
				path, body := "/api/send/users", map[string]any{"ids": ids, "type": encrypt.TypeWechatUser, "event": "test.user", "param": param}
				if k < rooms {
					path, body = "/api/send/room", map[string]any{"room": "r" + strconv.Itoa(k), "event": "test.seq", "param": param}
				}
				if _, err := post(path, body); err != nil {
					t.Errorf("%s %d: %v", path, pushed[k], err)
					return
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	for i := range 3 {
		old := b.pid()
		out := b.must("reload")
		if m := pauseRE.FindStringSubmatch(out); m == nil || m[1] != strconv.Itoa(members) || b.pid() == old {
			t.Fatalf("reload %d: %s", i+1, out)
		}
		t.Logf("reload %d: %s", i+1, strings.TrimSpace(out))
		time.Sleep(300 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("pushes to the rooms and to the users, over 3 reloads: %v", pushed)
	for i, c := range clients {
		want := map[string]int{"test.seq": pushed[i%rooms], "test.user": pushed[rooms]}
		for event, n := range want {
			if got := pushesOf(t, c, event, 0, n); len(got) != n {
				t.Fatalf("member %d: %d of %d %s pushes: %v", i, len(got), n, event, got)
			}
		}
		if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
			t.Fatalf("member %d after the reloads: %+v", i, r)
		}
	}
}

// pushesOf reads c's pushes of event (param {"n"}, from first on) until
// want arrived or none comes for a while, failing the test on one out of
// order or twice.
func pushesOf(t *testing.T, c *msgotest.Client, event string, first, want int) []int {
	t.Helper()
	var got []int
	for {
		wait := 10 * time.Second
		if len(got) >= want {
			wait = 200 * time.Millisecond // one more would be a duplicate
		}
		r, err := c.Next(wait, msgotest.IsPush(event))
		if err != nil {
			return got
		}
		var p struct{ N int }
		r.Decode(t, &p)
		if p.N != first+len(got) {
			t.Fatalf("%s push %d is n=%d (before it: %v)", event, len(got), p.N, got)
		}
		got = append(got, p.N)
	}
}
