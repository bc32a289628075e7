package main

import (
	"context"
	"fmt"
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
	opts := cachetest.Options(t)
	secret := "cluster-test-secret"
	env := []string{
		"MSGO_CACHE_DRIVER=redis",
		"MSGO_CACHE_REDIS_ADDR=" + opts.Addr,
		"MSGO_CACHE_REDIS_PREFIX=" + opts.Prefix,
		"MSGO_AUTH_SECRET=" + secret,
	}
	var procs []*exec.Cmd
	var ins []*instance
	for i := range 2 {
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
	store, err := cache.NewRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	obs := msgotest.Start(t, msgotest.Options{Store: store, Secret: secret, NodeID: "observer"})

	dial := func(in *instance, id string) *msgotest.Client {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			c, err := in.dial(framework.Identity{ID: id, Type: framework.TypeWechatUser})
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
