package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"msgo/framework/internal/wsframe"
	"msgo/library/cache"
)

// The fuzz targets drive the read path of a real Server without a listener:
// a connection is one end of a socketpair, and the target calls what a
// worker calls (consume, dispatch, run) holding the connection's queued
// mark, as a worker does, so nothing else runs it. The other end plays the
// client and receives what the server writes. Seed corpora are in
// testdata/fuzz; `go test` runs them, `go test -fuzz FuzzFrames` explores.

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
	t.Cleanup(func() { unix.Close(fds[1]) })
	c := &conn{id: ConnID(s.nextID.Add(1)), fd: int32(fds[0]), srv: s, ident: compact(Identity{ID: "f", Type: TypeWechatUser})}
	c.lastSeen.Store(s.now())
	c.flags.Store(flagQueued)
	return c, fds[1]
}

// done runs the work c scheduled for itself (close hooks, abort) and
// releases it, which closes its fd.
func done(s *Server, c *conn) {
	s.run(c)
	s.release(c, 1006)
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

// received reads everything the server wrote to the client end fd and splits
// it into frames, checking each is a whole, final, unmasked server frame.
func received(t *testing.T, fd int) []wsframe.Header {
	out := readAll(fd)
	var hs []wsframe.Header
	payloads := [][]byte{}
	for len(out) > 0 {
		h, hn, err := wsframe.ParseHeader(out)
		if err != nil || h.Masked || !h.Fin || h.Rsv != 0 || int64(len(out)-hn) < h.Length {
			t.Fatalf("server wrote a bad frame: %+v %v in %q", h, err, out)
		}
		hs = append(hs, h)
		payloads = append(payloads, out[hn:hn+int(h.Length)])
		out = out[hn+int(h.Length):]
	}
	for i, h := range hs {
		switch h.Op {
		case wsframe.OpText:
			checkReply(t, payloads[i], nil)
		case wsframe.OpPong:
		case wsframe.OpClose:
			code, ok, _ := wsframe.ParseClose(payloads[i])
			if !ok || code == wsframe.CloseNoStatus || i != len(hs)-1 {
				t.Fatalf("close frame %q at %d of %d frames", payloads[i], i, len(hs))
			}
		default:
			t.Fatalf("server frame with opcode %d", h.Op)
		}
	}
	return hs
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

// FuzzFrames feeds arbitrary bytes, in two reads split at cut, to a
// connection's frame parser, as read does.
func FuzzFrames(f *testing.F) {
	s := fuzzServer(f, Config{MaxFrameSize: 4096, MaxMessageSize: 8192, RateLimit: -1})
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		c, client := fuzzConn(t, s)
		k := 0
		if len(data) > 0 {
			k = int(cut) % (len(data) + 1)
		}
		var b []byte
		for _, chunk := range [][]byte{data[:k], data[k:]} {
			b = append(b, chunk...)
			rest, need, stop := s.consume(c, b)
			if stop {
				break
			}
			if need > 0 && (need <= len(rest) || need > s.cfg.MaxFrameSize+wsframe.MaxHeaderSize) {
				t.Fatalf("need %d with %d bytes left", need, len(rest))
			}
			b = rest
		}
		done(s, c)
		received(t, client)
	})
}

// FuzzDispatchDecode dispatches an arbitrary message: it gets exactly one
// well-formed reply, whose id, if any, is the request's own.
func FuzzDispatchDecode(f *testing.F) {
	s := fuzzServer(f, Config{RateLimit: -1})
	f.Fuzz(func(t *testing.T, msg []byte) {
		c, client := fuzzConn(t, s)
		s.dispatch(c, bytes.Clone(msg))
		done(s, c)
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

// FuzzHandshakeHead runs arbitrary request heads (request line with its
// query, headers, subprotocols) through the upgrade: it never panics, and a
// 101 goes only to a head with exactly one token naming a user.
func FuzzHandshakeHead(f *testing.F) {
	r := NewRouter()
	s, err := New(Options{
		Config: Config{NodeID: "fuzz", Workers: 1}, Router: r, Store: cache.NewMemory(), Logger: slog.New(slog.DiscardHandler),
		Authenticate: func(tok []byte) (Identity, error) {
			// "u.<id>" is a wechatUser called id; anything else is refused.
			id, ok := bytes.CutPrefix(tok, []byte("u."))
			if !ok {
				return Identity{}, errors.New("bad token")
			}
			return Identity{ID: string(id), Type: TypeWechatUser}, nil
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Stop(context.Background(), 1001, 0) })
	const base = "Host: msgo.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, h := range []string{
		"GET /ws?auth=u.a HTTP/1.1\r\n" + base + "\r\n",
		"GET /ws?auth=u.a&auth=u.b HTTP/1.1\r\n" + base + "\r\n",
		"GET /ws?auth=u. HTTP/1.1\r\n" + base + "\r\n",
		"GET /ws?x=1&auth=u%2Ea HTTP/1.1\r\n" + base + "\r\n",
		"GET /ws HTTP/1.1\r\n" + base + "Sec-WebSocket-Protocol: msgo, auth.u.a\r\n\r\n",
		"GET /ws HTTP/1.1\r\n" + base + "Sec-WebSocket-Protocol: msgo\r\nSec-WebSocket-Protocol: auth.u.a\r\n\r\n",
		"GET /ws?auth=u.a HTTP/1.1\r\n" + base + "Sec-WebSocket-Protocol: msgo, auth.u.b\r\n\r\n",
		"GET /ws?auth=u.a HTTP/1.1\r\n" + base + "Origin: http://x\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"GET /ws?auth=%zz HTTP/1.1\r\n" + base + "\r\n",
	} {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		h := newHandshake(s)
		h.reset(netip.MustParseAddr("127.0.0.1"))
		h.head.Reset(head)
		_, err := h.up.Upgrade(struct {
			io.Reader
			io.Writer
		}{&h.head, &h.resp})
		if err != nil {
			return
		}
		s.ips.release(h.ip)
		if h.tokens != 1 || h.ident.id() == "" {
			t.Fatalf("%q upgraded with %d tokens, id %q", head, h.tokens, h.ident.id())
		}
		if !bytes.HasPrefix(h.resp.Bytes(), []byte("HTTP/1.1 101 ")) {
			t.Fatalf("%q upgraded, answer %q", head, h.resp.Bytes())
		}
		if n := bytes.Count(head, []byte("auth=")) + bytes.Count(head, []byte("auth.")); n < 1 {
			t.Fatalf("%q upgraded without a token in sight", head)
		}
	})
}
