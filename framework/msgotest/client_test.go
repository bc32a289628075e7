package msgotest_test

import (
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// TestAwaitPushSkipsReplies: a handler replies and then pushes under its
// own method's name; AwaitPush passes over the reply, which arrives first,
// and leaves it for AwaitID.
func TestAwaitPushSkipsReplies(t *testing.T) {
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{func(r *framework.Router) {
		r.Handle("kit.push.echo", func(c *framework.Context) error {
			if err := c.Success("ok", map[string]string{"kind": "reply"}); err != nil {
				return err
			}
			f, err := framework.Push("kit.push.echo", map[string]string{"kind": "push"})
			if err != nil {
				return err
			}
			return c.App().Send(c.Client().ID(), f)
		})
	}}})
	cl := srv.Dial(t, framework.Identity{ID: "k1", Type: encrypt.TypeKefu})
	id := cl.Call(t, "kit.push.echo", nil)

	var p struct{ Kind string }
	push := cl.AwaitPush(t, "kit.push.echo")
	if push.Decode(t, &p); p.Kind != "push" || len(push.ID) != 0 {
		t.Fatalf("AwaitPush got %+v", push)
	}
	reply := cl.AwaitID(t, id)
	if reply.Decode(t, &p); p.Kind != "reply" {
		t.Fatalf("AwaitID got %+v", reply)
	}
	if r, err := cl.Next(0, msgotest.IsPush("kit.push.echo")); err == nil {
		t.Fatalf("a second push: %+v", r)
	}
}
