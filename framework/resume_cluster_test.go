package framework_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// sessionCluster starts three nodes on Redis with sessions and the probe.
func sessionCluster(t *testing.T) ([]*msgotest.Server, []*probe) {
	t.Helper()
	var nodes []*msgotest.Server
	var probes []*probe
	for i, st := range redisStores(t, 3) {
		p := &probe{}
		nodes = append(nodes, msgotest.Start(t, msgotest.Options{
			Modules: []msgotest.Module{p.register, groupModule},
			Store:   st,
			Secret:  "cluster-secret",
			NodeID:  fmt.Sprintf("s%d", i+1),
			Config:  sessionConfig(time.Minute, 0),
		}))
		probes = append(probes, p)
	}
	return nodes, probes
}

// A session resumed on another node moves there: the frames pushed while
// the client was away arrive once and in order, pushes to its room from any
// node reach it there, it is counted once in the room, and its close
// controller does not run on the node it left.
func TestSessionResumeOnAnotherNode(t *testing.T) {
	nodes, probes := sessionCluster(t)
	u := user("m1")
	a := nodes[0].Dial(t, u)
	sid := openSession(t, a)
	id := trackConn(t, a) // joins probeGroup: 1
	push := func(n int) {
		t.Helper()
		f, _ := framework.Push("test.group", map[string]any{"n": n})
		if err := nodes[2].App().SendToGroup(context.Background(), probeGroup, f); err != nil {
			t.Fatalf("push %d: %v", n, err)
		}
	}
	push(0) // 2
	last := a.AwaitPush(t, "test.group").N
	a.Close()
	eventually(t, "the session is detached", func() bool { return nodes[0].DetachedSessions() == 1 })
	for i := 1; i <= 3; i++ {
		push(i) // 3, 4, 5 kept on node 1
	}
	b := nodes[1].Dial(t, u)
	_, ans := resume(t, b, sid, last)
	if !ans.Resumed || *ans.Received != 1 {
		t.Fatalf("resume on another node: %+v", ans)
	}
	for i := 1; i <= 3; i++ {
		f := b.AwaitPush(t, "test.group")
		var p struct{ N int }
		f.Decode(t, &p)
		if p.N != i || f.N != uint64(i)+2 {
			t.Fatalf("replayed push %d numbered %d, want push %d numbered %d", p.N, f.N, i, i+2)
		}
	}
	push(4)
	f := b.AwaitPush(t, "test.group")
	if f.N != 6 {
		t.Fatalf("live push on the new node numbered %d, want 6", f.N)
	}
	// The connection kept its address: a send to it from a third node
	// reaches it on the node it moved to.
	direct, _ := framework.Push("test.direct", nil)
	if err := nodes[2].App().SendTo(context.Background(), framework.Addr{Node: "s1", ID: id}, direct); err != nil {
		t.Fatal(err)
	}
	if f := b.AwaitPush(t, "test.direct"); f.N != 7 {
		t.Fatalf("a send to the old address numbered %d, want 7", f.N)
	}
	if n, err := nodes[2].App().GroupCount(context.Background(), probeGroup); err != nil || n != 1 {
		t.Fatalf("the room counts %d members, want 1", n)
	}
	if probes[0].count(id) != 0 || nodes[0].DetachedSessions() != 0 {
		t.Fatal("the node the session left ran its close controller or still holds it")
	}
	// A second drop and a resume on a third node: the session moves again.
	b.Close()
	eventually(t, "the session is detached on node 2", func() bool { return nodes[1].DetachedSessions() == 1 })
	c := nodes[2].Dial(t, u)
	if _, ans := resume(t, c, sid, 7); !ans.Resumed {
		t.Fatal("the second move did not resume")
	}
	// And when it finally ends, its close controller runs once, where it is.
	c.WriteFrame(t, closeFrameWS())
	eventually(t, "the close controller ran on node 3", func() bool {
		total := 0
		for _, p := range probes {
			p.mu.Lock()
			for _, n := range p.closes {
				total += n
			}
			p.mu.Unlock()
		}
		return total == 1
	})
}

// A session whose node died cannot be resumed: resumed:false.
func TestSessionOnDeadNodeIsNotResumed(t *testing.T) {
	nodes, _ := sessionCluster(t)
	u := user("m3")
	a := nodes[0].Dial(t, u)
	sid := openSession(t, a)
	nodes[0].Stop()
	b := nodes[1].Dial(t, u)
	if r, ans := resume(t, b, sid, 0); r.Status != 200 || ans.Resumed {
		t.Fatalf("resume of a dead node's session answered %d %s", r.Status, r.Param)
	}
	// Another user's resume of a live session elsewhere is refused.
	c := nodes[1].Dial(t, u)
	sid2 := openSession(t, c)
	thief := nodes[2].Dial(t, user("m4"))
	if r, _ := resume(t, thief, sid2, 0); r.Status != 403 {
		t.Fatalf("another user's resume across nodes answered %d, want 403", r.Status)
	}
	if r := c.Request(t, "test.echo.echo", nil); r.Status != 200 {
		t.Fatal("a refused resume disturbed the session")
	}
}

// closeFrameWS is a client close frame with code 1000.
func closeFrameWS() ws.Frame {
	return ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
}
