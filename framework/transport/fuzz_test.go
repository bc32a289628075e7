//go:build linux

package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"msgo/framework/internal/wsframe"
)

// FuzzFrames drives the read path of a real Server without a listener: a
// connection is one end of a socketpair, and the target calls what a worker
// calls (consume, run) holding the connection's queued mark, as a worker
// does, so nothing else runs it. The other end plays the client and receives
// what the server writes. Every complete message is answered with one JSON
// text frame. Seed corpora are in testdata/fuzz; `go test` runs them, `go
// test -fuzz FuzzFrames` explores.

// reply is what the fuzz server answers each message with.
var reply = wsframe.Build(wsframe.OpText, []byte(`{"status":200,"info":"ok","param":{},"event":"test.echo.echo"}`))

func fuzzServer(f *testing.F, cfg Config) *Server[struct{}] {
	cfg.Workers = 1
	s, err := New(Options[struct{}]{
		Config:       cfg,
		Logger:       slog.New(slog.DiscardHandler),
		Authenticate: func([]byte, *struct{}) error { return nil },
		Message:      func(c *Conn[struct{}], _ []byte) { c.Send(reply) },
		Closed:       func(*Conn[struct{}]) {},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Stop(context.Background(), 1001, 0) })
	return s
}

// fuzzConn returns a connection of s and the fd of its client end.
func fuzzConn(t *testing.T, s *Server[struct{}]) (*Conn[struct{}], int) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[1]) })
	c := &Conn[struct{}]{id: ConnID(s.nextID.Add(1)), fd: int32(fds[0]), srv: s}
	c.lastSeen.Store(s.now())
	c.flags.Store(flagQueued)
	return c, fds[1]
}

// done runs the work c scheduled for itself (Closed, abort) and releases
// it, which closes its fd.
func done(s *Server[struct{}], c *Conn[struct{}]) {
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
			if !json.Valid(payloads[i]) {
				t.Fatalf("text frame %q is not JSON", payloads[i])
			}
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

// FuzzFrames feeds arbitrary bytes, in two reads split at cut, to a
// connection's frame parser, as read does.
func FuzzFrames(f *testing.F) {
	s := fuzzServer(f, Config{MaxFrameSize: 4096, MaxMessageSize: 8192})
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

// FuzzHandshakeHead runs arbitrary request heads (request line with its
// query, headers, subprotocols) through the upgrade: it never panics, and a
// 101 goes only to a head with exactly one token naming a user.
func FuzzHandshakeHead(f *testing.F) {
	s, err := New(Options[string]{
		Config: Config{Workers: 1}, Logger: slog.New(slog.DiscardHandler),
		// "u.<id>" names user id, as the layer above refuses a token that
		// names no user; anything else is refused.
		Authenticate: func(tok []byte, user *string) error {
			id, ok := bytes.CutPrefix(tok, []byte("u."))
			if !ok || len(id) == 0 {
				return errors.New("bad token")
			}
			*user = string(id)
			return nil
		},
		Message: func(*Conn[string], []byte) {},
		Closed:  func(*Conn[string]) {},
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
		if h.tokens != 1 || h.session == "" {
			t.Fatalf("%q upgraded with %d tokens, user %q", head, h.tokens, h.session)
		}
		if !bytes.HasPrefix(h.resp.Bytes(), []byte("HTTP/1.1 101 ")) {
			t.Fatalf("%q upgraded, answer %q", head, h.resp.Bytes())
		}
		if n := bytes.Count(head, []byte("auth=")) + bytes.Count(head, []byte("auth.")); n < 1 {
			t.Fatalf("%q upgraded without a token in sight", head)
		}
	})
}
