package framework_test

import (
	"fmt"
	"strings"
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// A Frame made by Concat reaches the client as separate messages, in order.
func TestConcatSendsSeparateFrames(t *testing.T) {
	sizes := []int{1, 200, 70000} // the three header lengths
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{func(r *framework.Router) {
		r.Handle("test.concat.push", func(c *framework.Context) error {
			var fs []*framework.Frame
			for i, n := range sizes {
				f, err := framework.Push("test.concat", map[string]any{"i": i, "pad": strings.Repeat("x", n)})
				if err != nil {
					return err
				}
				fs = append(fs, f)
			}
			return c.App().Send(c.Client().ID(), framework.Concat(fs...))
		})
	}}, Config: framework.Config{MaxFrameSize: 1 << 20}})
	cl := srv.Dial(t, framework.Identity{ID: "u", Type: encrypt.TypeWall})
	cl.Request(t, "test.concat.push", nil)
	for i, n := range sizes {
		var p struct {
			I   int
			Pad string
		}
		cl.Await(t, "test.concat").Decode(t, &p)
		if p.I != i || len(p.Pad) != n {
			t.Fatalf("frame %d: got i=%d with %d bytes of padding, want %d", i, p.I, len(p.Pad), n)
		}
	}
}

func TestFramePayload(t *testing.T) {
	var fs []*framework.Frame
	for _, n := range []int{1, 200, 70000} {
		f, err := framework.Push("e", strings.Repeat("y", n))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"status":200,"info":"","param":"%s","event":"e"}`, strings.Repeat("y", n))
		if string(f.Payload()) != want {
			t.Fatalf("payload of a %d-byte param is wrong", n)
		}
		fs = append(fs, f)
	}
	if got := framework.Concat(fs...).Payload(); string(got) != string(fs[0].Payload()) {
		t.Fatalf("Concat's payload %q, want the first frame's", got)
	}
}
