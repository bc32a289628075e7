package framework_test

import (
	"encoding/json"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

func TestStreamAnswersOneRequestWithManyFrames(t *testing.T) {
	stopped := make(chan struct{})
	mod := func(r *framework.Router) {
		r.Handle("test.stream.count", func(c *framework.Context) error {
			st, err := c.Stream("test.chunk")
			if err != nil {
				return err
			}
			go func() {
				defer st.Close()
				for i := range 3 {
					st.Send(map[string]any{"n": i, "complete": i == 2})
				}
			}()
			return nil
		})
		r.Handle("test.stream.forever", func(c *framework.Context) error {
			st, err := c.Stream("test.chunk")
			if err != nil {
				return err
			}
			go func() {
				defer close(stopped)
				defer st.Close()
				for st.Send(map[string]any{"tick": true}) == nil {
					select {
					case <-st.Context().Done():
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}()
			return nil
		})
	}
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{mod}})
	cl := srv.Dial(t, framework.Identity{ID: "u", Type: encrypt.TypeWechatUser})
	cl.Write(t, []byte(`{"method":"test.stream.count","id":"s1"}`))
	for i := range 3 {
		r := cl.AwaitID(t, json.RawMessage(`"s1"`))
		var p struct {
			N        int
			Complete bool
		}
		r.Decode(t, &p)
		if r.Event != "test.chunk" || p.N != i || p.Complete != (i == 2) {
			t.Fatalf("chunk %d: %+v", i, r)
		}
	}
	if r, err := cl.Next(200*time.Millisecond, func(r msgotest.Reply) bool { return string(r.ID) == `"s1"` }); err == nil {
		t.Fatalf("an extra frame answered the stream: %+v", r)
	}

	// A client that disconnects mid-stream stops it.
	cl2 := srv.Dial(t, framework.Identity{ID: "v", Type: encrypt.TypeWechatUser})
	cl2.Write(t, []byte(`{"method":"test.stream.forever","id":7}`))
	cl2.AwaitID(t, json.RawMessage(`7`))
	cl2.Close()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream kept going after its client left")
	}
}
