package framework_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/encrypt"
)

var allTypes = []string{encrypt.TypeWechatUser, encrypt.TypeWall, encrypt.TypeKefu}

// calls counts which user types reached each handler, to prove that a
// refused request never ran it.
type calls struct {
	mu sync.Mutex
	n  map[string]int // "method type" -> calls
}

func (cs *calls) handler(c *framework.Context) error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.n == nil {
		cs.n = make(map[string]int)
	}
	cs.n[c.Method()+" "+c.Client().Type()]++
	return nil
}

func (cs *calls) count(method, typ string) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.n[method+" "+typ]
}

// TestGuardsAnswerFromTheTable walks the route table, not a list kept in the
// test: every route that declares user types answers 403 to every other type
// without running its handler, and runs for the types it names.
func TestGuardsAnswerFromTheTable(t *testing.T) {
	t.Parallel()
	var cs calls
	var router *framework.Router
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{func(r *framework.Router) {
		router = r
		r.Handle("rt.open.call", cs.handler)
		r.Handle("rt.wall.call", cs.handler, framework.Allow(encrypt.TypeWall))
		r.Handle("rt.staff.call", cs.handler, framework.Allow(encrypt.TypeWall), framework.Allow(encrypt.TypeKefu))
		r.Handle("rt.user.call", cs.handler, framework.Allow(encrypt.TypeWechatUser), framework.Limit(50))
	}}})
	clients := make(map[string]*msgotest.Client)
	for _, typ := range allTypes {
		clients[typ] = srv.Dial(t, framework.Identity{ID: "g-" + typ, Type: typ})
	}
	routes := router.Routes()
	if len(routes) != 4 {
		t.Fatalf("route table: %+v", routes)
	}
	for _, rt := range routes {
		for _, typ := range allTypes {
			allowed := len(rt.Allow) == 0 || slices.Contains(rt.Allow, typ)
			r := clients[typ].Request(t, strings.ToUpper(rt.Method), nil)
			switch {
			case allowed && (r.Status != 200 || cs.count(rt.Method, typ) != 1):
				t.Errorf("%s calling %s (allow %v): %+v, handler ran %d times; want 200 once",
					typ, rt.Method, rt.Allow, r, cs.count(rt.Method, typ))
			case !allowed && (r.Status != 403 || r.Event != rt.Method || cs.count(rt.Method, typ) != 0):
				t.Errorf("%s calling %s (allow %v): %+v, handler ran %d times; want 403 and no call",
					typ, rt.Method, rt.Allow, r, cs.count(rt.Method, typ))
			case !allowed && !(strings.Contains(r.Info, typ) && strings.Contains(r.Info, rt.Method)):
				t.Errorf("403 info %q names neither the type %s nor the method %s", r.Info, typ, rt.Method)
			}
		}
	}
}

// TestRoutesTable returns the routes as declared: lower-cased, sorted, with
// their guards.
func TestRoutesTable(t *testing.T) {
	t.Parallel()
	r := framework.NewRouter()
	nop := func(*framework.Context) error { return nil }
	r.Handle("Zed.A.B", nop)
	r.Handle("live.wall.lottery", nop, framework.Allow(encrypt.TypeWall), framework.Limit(2))
	r.Handle("live.user.join", nop, framework.Allow(encrypt.TypeWechatUser, encrypt.TypeWall))
	got := fmt.Sprintf("%+v", r.Routes())
	want := "[{Method:live.user.join Allow:[wechatUser wall] Limit:0} " +
		"{Method:live.wall.lottery Allow:[wall] Limit:2} {Method:zed.a.b Allow:[] Limit:0}]"
	if got != want {
		t.Fatalf("Routes() = %s\nwant       %s", got, want)
	}
}

// TestRouteLimit answers 429 once a route's own rate is spent, on that route
// and that connection only; the connection stays.
func TestRouteLimit(t *testing.T) {
	t.Parallel()
	var cs calls
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{func(r *framework.Router) {
		r.Handle("rt.slow.call", cs.handler, framework.Limit(1))
		r.Handle("rt.fast.call", cs.handler)
	}}})
	a := srv.Dial(t, user("limit-a"))
	const n = 10
	limited := burst(t, a, "rt.slow.call", n)
	if limited == 0 {
		t.Fatalf("%d calls at once of a route limited to 1/s: none refused", n)
	}
	if got := cs.count("rt.slow.call", encrypt.TypeWechatUser); got != n-limited {
		t.Fatalf("handler ran %d times for %d allowed calls", got, n-limited)
	}
	if r := a.Request(t, "rt.fast.call", nil); r.Status != 200 {
		t.Fatalf("another route on the limited connection: %+v", r)
	}
	b := srv.Dial(t, user("limit-b"))
	if r := b.Request(t, "rt.slow.call", nil); r.Status != 200 {
		t.Fatalf("the limited route on another connection: %+v", r)
	}
}

// burst writes n requests of method at once, with ids 0 to n-1, and returns
// how many were answered 429. The first must pass (buckets start full), and
// any status but 200 and 429 fails the test.
func burst(t testing.TB, cl *msgotest.Client, method string, n int) (limited int) {
	t.Helper()
	for i := range n {
		cl.Write(t, fmt.Appendf(nil, `{"method":%q,"id":%d}`, method, i))
	}
	event := strings.ToLower(method)
	for i := range n {
		r := cl.AwaitID(t, json.RawMessage(strconv.Itoa(i)))
		switch {
		case i == 0 && r.Status != 200:
			t.Fatalf("first %s, on a full bucket: %+v", method, r)
		case r.Status == 429 && r.Event == event:
			limited++
		case r.Status != 200:
			t.Fatalf("%s %d: %+v", method, i, r)
		}
	}
	return limited
}

// trace records middleware and handler steps of one request at a time.
type trace struct {
	mu    sync.Mutex
	steps []string
}

func (tr *trace) add(s string) {
	tr.mu.Lock()
	tr.steps = append(tr.steps, s)
	tr.mu.Unlock()
}

// take returns the steps so far and starts a new trace.
func (tr *trace) take() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s := strings.Join(tr.steps, " ")
	tr.steps = nil
	return s
}

// mw is a middleware that records entering and leaving, and the error it saw.
func (tr *trace) mw(name string) framework.Middleware {
	return func(next framework.Handler) framework.Handler {
		return func(c *framework.Context) error {
			tr.add(name + ">")
			err := next(c)
			var e *framework.Error
			if errors.As(err, &e) {
				tr.add(fmt.Sprintf("<%s(%d)", name, e.Status))
			} else {
				tr.add("<" + name)
			}
			return err
		}
	}
}

// TestMiddlewareOrder runs middleware in the order declared, the first
// outermost, across several Use calls; guards run before any of it, and
// recovery after all of it. The handlers reply by returning, so the reply is
// written after the whole chain returned and the trace is complete when the
// client reads it.
func TestMiddlewareOrder(t *testing.T) {
	t.Parallel()
	var tr trace
	srv := msgotest.Start(t, msgotest.Options{
		Middleware: []framework.Middleware{tr.mw("first"), tr.mw("second")},
		Modules: []msgotest.Module{func(r *framework.Router) {
			r.Use(tr.mw("third"))
			r.Handle("rt.chain.ok", func(*framework.Context) error { tr.add("handler"); return nil })
			r.Handle("rt.chain.bad", func(*framework.Context) error {
				tr.add("handler")
				return framework.Errorf(framework.StatusBadRequest, "no")
			})
			r.Handle("rt.chain.panic", func(*framework.Context) error { tr.add("handler"); panic("boom") })
			r.Handle("rt.chain.wall", func(*framework.Context) error { tr.add("handler"); return nil },
				framework.Allow(encrypt.TypeWall))
		}},
	})
	cl := srv.Dial(t, user("chain"))
	for _, c := range []struct {
		method string
		status int
		steps  string
	}{
		{"rt.chain.ok", 200, "first> second> third> handler <third <second <first"},
		{"rt.chain.bad", 400, "first> second> third> handler <third(400) <second(400) <first(400)"},
		// A panic unwinds through the middleware; recovery, outermost, answers 500.
		{"rt.chain.panic", 500, "first> second> third> handler"},
		// The guard refuses before any middleware runs.
		{"rt.chain.wall", 403, ""},
		{"rt.chain.ok", 200, "first> second> third> handler <third <second <first"},
	} {
		r := cl.Request(t, c.method, nil)
		if got := tr.take(); r.Status != c.status || got != c.steps {
			t.Errorf("%s: status %d, steps %q; want %d, %q", c.method, r.Status, got, c.status, c.steps)
		}
	}
}

// TestRouterRegistrationPanics: mistakes in the table surface at start, as
// panics naming the mistake, never on a request.
func TestRouterRegistrationPanics(t *testing.T) {
	t.Parallel()
	nop := func(*framework.Context) error { return nil }
	started := framework.NewRouter()
	msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{func(r *framework.Router) { started = r }}})
	for _, c := range []struct {
		name string
		want string
		fn   func(r *framework.Router)
	}{
		{"use after a route", "Use after routes", func(r *framework.Router) {
			r.Handle("a.b.c", nop)
			r.Use(func(h framework.Handler) framework.Handler { return h })
		}},
		{"two parts", "malformed method", func(r *framework.Router) { r.Handle("a.b", nop) }},
		{"four parts", "malformed method", func(r *framework.Router) { r.Handle("a.b.c.d", nop) }},
		{"empty part", "malformed method", func(r *framework.Router) { r.Handle("a..c", nop) }},
		{"space", "malformed method", func(r *framework.Router) { r.Handle("a.b c.d", nop) }},
		{"duplicate in another case", "registered twice", func(r *framework.Router) {
			r.Handle("live.user.join", nop)
			r.Handle("Live.User.Join", nop)
		}},
		{"unknown user type", `unknown user type "admin"`, func(r *framework.Router) {
			r.Handle("a.b.c", nop, framework.Allow(encrypt.TypeWall, "admin"))
			framework.New(framework.Options{Config: framework.Config{NodeID: "n", UserTypes: encrypt.Types()},
				Router: r, Store: cache.NewMemory(), Authenticate: msgotest.Authenticator(encrypt.New("s", time.Hour))})
		}},
		{"duplicate close controller", "registered twice", func(r *framework.Router) {
			r.OnClose("Live.User", nil)
			r.OnClose("live.user", nil)
		}},
		{"handle after start", "after the server started", func(*framework.Router) { started.Handle("late.route.x", nop) }},
		{"close controller after start", "after the server started", func(*framework.Router) { started.OnClose("Late", nil) }},
		{"use after start", "Use after", func(*framework.Router) { started.Use() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if p == nil {
					t.Fatalf("no panic, want one naming %q", c.want)
				}
				if msg := fmt.Sprint(p); !strings.Contains(msg, c.want) {
					t.Fatalf("panic %q, want one naming %q", msg, c.want)
				}
			}()
			c.fn(framework.NewRouter())
		})
	}
}
