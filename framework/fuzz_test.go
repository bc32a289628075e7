package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"msgo/framework/internal/wsframe"
	"msgo/framework/transport"
	"msgo/library/cache"
)

// FuzzDispatchDecode drives dispatch of a real Server without a listener: a
// connection is one end of a socketpair, imported into the server, and the
// target calls what a worker calls. The other end plays the client and
// receives what the server writes. Seed corpora are in testdata/fuzz; `go
// test` runs them, `go test -fuzz FuzzDispatchDecode` explores. The frame
// parser's target, FuzzFrames, is the transport's.

func fuzzServer(f *testing.F, cfg Config) *Server {
	r := NewRouter()
	r.Handle("test.echo.echo", func(c *Context) error {
		p, err := c.Params()
		if err != nil {
			return err
		}
		return c.Success("ok", p)
	})
	r.Handle("test.fail.panic", func(*Context) error { panic("fuzz") })
	r.Handle("test.fail.unavailable", func(*Context) error { return cache.ErrUnavailable })
	return socketlessServer(f, r, cfg)
}

// socketlessServer builds a Server whose connections tests make themselves
// (socketpairs): one worker, no handshakes.
func socketlessServer(tb testing.TB, r *Router, cfg Config) *Server {
	store := cache.NewMemory()
	cfg.NodeID, cfg.Workers = "fuzz", 1
	cfg.UserTypes = []string{"wechatUser", "wall"}
	s, err := New(Options{
		Config: cfg, Router: r, Store: store, Logger: slog.New(slog.DiscardHandler),
		Authenticate: func([]byte) (Identity, error) { return Identity{}, errors.New("no handshakes here") },
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Stop(context.Background(), 1001, 0)
		store.Close()
	})
	return s
}

// fuzzConn returns a connection of s and the fd of its client end.
func fuzzConn(t *testing.T, s *Server) (*conn, int) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Closing the client end makes the server release its end.
	t.Cleanup(func() { unix.Close(fds[1]) })
	c, err := s.tr.Import(fds[0], transport.State{}, session{ident: compact(Identity{ID: "f", Type: "wechatUser"})})
	if err != nil {
		unix.Close(fds[0])
		t.Fatal(err)
	}
	return c, fds[1]
}

// readAll reads what fd holds, up to EAGAIN or the end.
func readAll(fd int) []byte {
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if n <= 0 || err != nil {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

var replyStatuses = []int{StatusOK, StatusBadRequest, StatusForbidden, StatusNotFound, StatusTooMany, StatusInternal, StatusUnavailable}

// checkReply checks a reply's shape (docs/protocol.md) and, when req is
// given, that an id in it is one the request carried, verbatim.
func checkReply(t *testing.T, payload, req []byte) {
	var m struct {
		Status *int
		Info   *string
		Param  json.RawMessage
		Event  *string
		ID     json.RawMessage
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil || m.Status == nil || m.Info == nil || m.Event == nil || len(m.Param) == 0 {
		t.Fatalf("reply %s: %v", payload, err)
	}
	if !slices.Contains(replyStatuses, *m.Status) || *m.Event == "" {
		t.Fatalf("reply %s: status or event", payload)
	}
	if m.ID != nil {
		if c := m.ID[0]; c != '"' && c != '-' && (c < '0' || c > '9') {
			t.Fatalf("reply %s: id is not a string or a number", payload)
		}
		if req != nil && !bytes.Contains(req, m.ID) {
			t.Fatalf("reply %s: id not in the request %q", payload, req)
		}
	}
}

// FuzzDispatchDecode dispatches an arbitrary message: it gets exactly one
// well-formed reply, whose id, if any, is the request's own.
func FuzzDispatchDecode(f *testing.F) {
	s := fuzzServer(f, Config{RateLimit: -1})
	f.Fuzz(func(t *testing.T, msg []byte) {
		c, client := fuzzConn(t, s)
		s.dispatch(c, bytes.Clone(msg))
		out := readAll(client)
		h, hn, err := wsframe.ParseHeader(out)
		if err != nil || h.Op != wsframe.OpText || int64(len(out)-hn) != h.Length {
			t.Fatalf("want exactly one text frame, got %q", out)
		}
		checkReply(t, out[hn:], msg)
	})
}

// FuzzRequestEnvelope scans arbitrary messages for method and id: whatever
// it accepts is a JSON object whose method is a non-empty JSON string and
// whose id, if any, a string or a number; whatever encoding/json cannot
// read as an object it refuses.
func FuzzRequestEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"method":"live.user.join","id":1}`,
		`{"method":"Kefu.Chat.Send","id":"a","msg":"hi"}`,
		`{"id":null,"method":"x"}`,
		`{"method":"a","method":"b"}`,
		`{"method":"","id":1}`,
		`{"method":1}`,
		`{"method":"\u0061","id":-1.5e3}`,
		`{"id":{},"method":"x"}`,
		`[{"method":"x"}]`,
		`{"method":"x"} {}`,
		` {"m\u0065thod":"x"} `,
		`"method"`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		method, id, problem := requestEnvelope(msg)
		var obj map[string]json.RawMessage
		isObject := json.Unmarshal(msg, &obj) == nil && obj != nil
		if problem != "" {
			if method != nil {
				t.Fatalf("%q: problem %q with method %q", msg, problem, method)
			}
			return
		}
		if !isObject {
			t.Fatalf("%q accepted, but it is not a JSON object", msg)
		}
		quoted := append(append([]byte{'"'}, method...), '"')
		var s string
		if len(method) == 0 || json.Unmarshal(quoted, &s) != nil {
			t.Fatalf("%q: method %q is not a non-empty JSON string", msg, method)
		}
		if id != nil && (!json.Valid(id) || !validID(id) || string(id) == "null") {
			t.Fatalf("%q: id %q", msg, id)
		}
	})
}
