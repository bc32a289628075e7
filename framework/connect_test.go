package framework_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
)

// connectProbe is a module whose connect functions put walls in a group,
// panic for the user "panics" and close the user "kicked" before trying to
// join it to the group.
type connectProbe struct {
	mu      sync.Mutex
	calls   map[string]int // connect functions run, by user id (second function)
	kickErr error          // what JoinGroup said after the kick
}

var wallsGroup = framework.InternalGroup("test.walls")

func (p *connectProbe) register(r *framework.Router) {
	r.OnConnect(func(ctx context.Context, app *framework.App, cl framework.Client) {
		switch {
		case cl.UserID() == "panics":
			panic("connect probe panics")
		case cl.UserID() == "kicked":
			app.Close(cl.ID(), framework.CloseNormal, "")
			err := app.JoinGroup(ctx, cl.ID(), wallsGroup)
			p.mu.Lock()
			p.kickErr = err
			p.mu.Unlock()
		case cl.Type() == framework.TypeWall:
			if err := app.JoinGroup(ctx, cl.ID(), wallsGroup); err != nil {
				panic(err)
			}
		}
	})
	r.OnConnect(func(_ context.Context, _ *framework.App, cl framework.Client) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.calls == nil {
			p.calls = make(map[string]int)
		}
		p.calls[cl.UserID()]++
	})
	r.Handle("test.walls.push", func(c *framework.Context) error {
		f, err := framework.Push("test.hello", map[string]string{"from": c.Client().UserID()})
		if err != nil {
			return err
		}
		return c.App().SendToGroup(c.Context(), wallsGroup, f)
	})
	r.Handle("test.walls.state", func(c *framework.Context) error {
		n, err := c.App().GroupCount(c.Context(), wallsGroup)
		if err != nil {
			return err
		}
		return c.Success("ok", map[string]any{"in": c.App().InGroup(c.Client().ID(), wallsGroup), "count": n})
	})
}

func (p *connectProbe) callsOf(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[id]
}

// TestOnConnect: a connect function runs once per connection, before its
// 101, so a push from another node the moment the handshake succeeded
// reaches what it set up; a panic in one is contained; a connection closed
// by one is closed cleanly and keeps no group.
func TestOnConnect(t *testing.T) {
	t.Parallel()
	store := cache.NewMemory()
	t.Cleanup(func() { store.Close() })
	p := &connectProbe{}
	var nodes []*msgotest.Server
	for _, id := range []string{"c1", "c2"} {
		nodes = append(nodes, msgotest.Start(t, msgotest.Options{
			Modules: []msgotest.Module{p.register}, Store: store, Secret: "connect-secret", NodeID: id,
		}))
	}
	pusher := nodes[1].Dial(t, user("pusher"))
	wallID := framework.Identity{ID: "w1", Type: framework.TypeWall, Code: "r1"}
	for i := range 3 {
		wall := nodes[0].Dial(t, wallID)
		// No request on the wall first: the push right after its handshake
		// must find it in the group.
		if r := pusher.Request(t, "test.walls.push", nil); r.Status != 200 {
			t.Fatalf("push: %d %s", r.Status, r.Info)
		}
		wall.Await(t, "test.hello")
		var st struct {
			In    bool
			Count int
		}
		wall.Request(t, "test.walls.state", nil).Decode(t, &st)
		if !st.In || st.Count != 1 {
			t.Fatalf("wall %d: in group %v, group count %d; want true, 1", i, st.In, st.Count)
		}
		wall.Close()
	}
	if n := p.callsOf("w1"); n != 3 {
		t.Errorf("connect functions ran %d times for 3 connections", n)
	}

	panics := nodes[0].Dial(t, user("panics"))
	if r := panics.Request(t, "test.walls.state", nil); r.Status != 200 {
		t.Errorf("after a panicking connect function: %d %s", r.Status, r.Info)
	}
	if n := p.callsOf("panics"); n != 1 {
		t.Errorf("the function after the panicking one ran %d times, want 1", n)
	}

	kicked := nodes[0].Dial(t, framework.Identity{ID: "kicked", Type: framework.TypeWall})
	if got := kicked.AwaitClose(t); got.Code != framework.CloseNormal {
		t.Errorf("kicked in its connect function: closed with %d, want 1000", got.Code)
	}
	p.mu.Lock()
	kickErr := p.kickErr
	p.mu.Unlock()
	if !errors.Is(kickErr, framework.ErrConnGone) {
		t.Errorf("JoinGroup after the kick: %v, want ErrConnGone", kickErr)
	}
	eventually(t, "the walls group is empty", func() bool {
		var st struct{ Count int }
		pusher.Request(t, "test.walls.state", nil).Decode(t, &st)
		return st.Count == 0
	})
}
