//go:build linux

package transport

import (
	"context"
	"encoding/json"
	"log/slog"
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
