package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/cache/cachetest"
)

// TestClusterKilledNodeVanishes runs two msgo processes and an in-process
// observer node on one Redis; kill -9 of a process (no cleanup at all) and
// its users vanish from the observer's counts, purged by the live nodes.
func TestClusterKilledNodeVanishes(t *testing.T) {
	env, opts := clusterEnv(t)
	procs, ins := startProcs(t, 2, env)
	store, err := cache.NewRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	obs := msgotest.Start(t, msgotest.Options{Store: store, Secret: clusterSecret, NodeID: "observer"})

	dial := func(in *instance, id string) *msgotest.Client {
		return dialRetry(t, in, framework.Identity{ID: id, Type: framework.TypeWechatUser})
	}
	for i := range 5 {
		dial(ins[0], fmt.Sprintf("a%d", i))
		dial(ins[1], fmt.Sprintf("b%d", i))
	}
	ctx := context.Background()
	wait := func(what string, limit time.Duration, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > limit {
				t.Fatalf("%s: not within %s", what, limit)
			}
			time.Sleep(100 * time.Millisecond)
		}
		return time.Since(start)
	}
	wait("10 users online", 15*time.Second, func() bool {
		_, users, err := obs.App().OnlineCount(ctx)
		return err == nil && users == 10
	})

	procs[0].Process.Kill() // kill -9: no close frames, no cleanup
	procs[0].Wait()
	took := wait("the dead node's users purged", 15*time.Second, func() bool {
		_, users, err := obs.App().OnlineCount(ctx)
		online, _ := obs.App().IsOnline(ctx, framework.TypeWechatUser, "a0")
		return err == nil && users == 5 && !online
	})
	t.Logf("dead node purged %s after kill -9", took.Round(100*time.Millisecond))
	nodes, err := obs.App().Nodes(ctx)
	if err != nil || len(nodes) != 2 {
		t.Fatalf("live nodes after the kill: %+v, %v", nodes, err)
	}
}

// clusterEnv is the environment of processes sharing one fresh Redis prefix.
func clusterEnv(t *testing.T) ([]string, cache.RedisOptions) {
	opts := cachetest.Options(t)
	return []string{
		"MSGO_CACHE_DRIVER=redis",
		"MSGO_CACHE_REDIS_ADDR=" + opts.Addr,
		"MSGO_CACHE_REDIS_PREFIX=" + opts.Prefix,
		"MSGO_AUTH_SECRET=" + clusterSecret,
	}, opts
}

const clusterSecret = "cluster-test-secret"

// startProcs starts n msgo processes in the foreground, node ids p1..pn.
func startProcs(t *testing.T, n int, env []string) ([]*exec.Cmd, []*instance) {
	var procs []*exec.Cmd
	var ins []*instance
	for i := range n {
		in := newInstance(t, append(env, fmt.Sprintf("MSGO_NODE_ID=p%d", i+1))...)
		c := exec.Command(in.bin, "start")
		c.Env, c.Dir = in.env, in.dir
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		procs = append(procs, c)
		ins = append(ins, in)
	}
	return procs, ins
}

// dialRetry connects once the process listens.
func dialRetry(t *testing.T, in *instance, id framework.Identity) *msgotest.Client {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := in.dial(id)
		if err == nil {
			t.Cleanup(c.Close)
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial %s: %v", filepath.Base(in.dir), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// callManager calls a node's manager port and returns data.
func callManager(t *testing.T, in *instance, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+in.mgr+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out struct {
		Code int            `json:"code"`
		Data map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Code != 200 {
		t.Fatalf("%s %s: code %d, %v", method, path, out.Code, err)
	}
	return out.Data
}

// TestClusterThreeProcesses runs three msgo processes on the real Redis:
// a room spread over all three gets each push from any node's manager
// exactly once per member connection, a user's devices on two nodes both
// get a send-to-user, and online counts agree on every node.
func TestClusterThreeProcesses(t *testing.T) {
	env, _ := clusterEnv(t)
	_, ins := startProcs(t, 3, env)
	var members []*msgotest.Client
	for i := range 9 {
		c := dialRetry(t, ins[i%3], framework.Identity{ID: fmt.Sprintf("u%d", i), Type: framework.TypeWechatUser, Code: "r1", Nickname: "n"})
		if r := c.Request(t, "live.user.join", nil); r.Status != 200 {
			t.Fatalf("join: %+v", r)
		}
		members = append(members, c)
	}
	phone := dialRetry(t, ins[0], framework.Identity{ID: "multi", Type: framework.TypeWechatUser})
	laptop := dialRetry(t, ins[1], framework.Identity{ID: "multi", Type: framework.TypeWechatUser})

	for n, in := range ins {
		d := callManager(t, in, "POST", "/api/send/room", map[string]any{"room": "r1", "event": "t.room", "param": map[string]any{"from": n}})
		if d["delivered"] != float64(9) {
			t.Fatalf("send/room from node %d: delivered %v, want 9", n+1, d["delivered"])
		}
	}
	for i, c := range members {
		got := map[string]bool{}
		for range 3 {
			r := c.Await(t, "t.room")
			if got[string(r.Param)] {
				t.Fatalf("member %d got %s twice", i, r.Param)
			}
			got[string(r.Param)] = true
		}
		if r, err := c.Next(200*time.Millisecond, func(r msgotest.Reply) bool { return r.Event == "t.room" }); err == nil {
			t.Fatalf("member %d got an extra push: %+v", i, r)
		}
	}
	if _, err := phone.Next(200*time.Millisecond, func(r msgotest.Reply) bool { return r.Event == "t.room" }); err == nil {
		t.Fatal("a connection outside the room got the room push")
	}

	d := callManager(t, ins[2], "POST", "/api/send/user", map[string]any{"id": "multi", "event": "t.user", "param": map[string]any{}})
	if d["delivered"] != float64(2) {
		t.Fatalf("send/user: delivered %v, want 2", d["delivered"])
	}
	phone.Await(t, "t.user")
	laptop.Await(t, "t.user")

	for n, in := range ins {
		deadline := time.Now().Add(15 * time.Second)
		for {
			d := callManager(t, in, "GET", "/api/online/count", nil)
			if d["connections"] == float64(11) && d["users"] == float64(10) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("online count on node %d: %v, want 11 connections, 10 users", n+1, d)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
