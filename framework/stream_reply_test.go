package framework_test

import (
	"errors"
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/encrypt"
)

// A deferred answer: the handler returns at once, and the reply (any
// status, or the status of an error) follows from another goroutine with
// the request's id and method as event.
func TestStreamReplyAndFail(t *testing.T) {
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{func(r *framework.Router) {
		r.Handle("test.later.answer", func(c *framework.Context) error {
			var p struct{ Fail string }
			if err := c.Bind(&p); err != nil {
				return err
			}
			st, err := c.Stream(c.Method())
			if err != nil {
				return err
			}
			go func() {
				defer st.Close()
				switch p.Fail {
				case "":
					st.Reply(framework.StatusOK, "done", map[string]int{"n": 1})
				case "unavailable":
					st.Fail(cache.ErrUnavailable)
				case "conflict":
					st.Fail(framework.Errorf(409, "param x taken"))
				default:
					st.Fail(errors.New("boom"))
				}
			}()
			return nil
		})
	}}})
	cl := srv.Dial(t, framework.Identity{ID: "u", Type: encrypt.TypeWall})
	for _, c := range []struct {
		fail   string
		status int
		info   string
		param  string
	}{
		{"", 200, "done", `{"n":1}`},
		{"unavailable", 503, "service unavailable, try again", `{}`},
		{"conflict", 409, "param x taken", `{}`},
		{"other", 500, "internal error", `{}`},
	} {
		r := cl.Request(t, "test.later.answer", map[string]any{"fail": c.fail})
		if r.Status != c.status || r.Info != c.info || string(r.Param) != c.param || r.Event != "test.later.answer" {
			t.Errorf("fail=%q: %+v", c.fail, r)
		}
		if _, err := cl.Next(0, func(msgotest.Reply) bool { return true }); err == nil {
			t.Errorf("fail=%q: a second frame answered the request", c.fail)
		}
	}
}
