package framework_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
)

// The probe module's names.
const (
	probeKey    = "ck:probe"
	probeCloser = "Test.Probe"
)

var probeGroup = framework.InternalGroup("test.probe")

// probe is a test module: an echo, handlers that fail in each way a handler
// can, a guarded route, and test.hooks.track, which registers every kind of
// close hook for its connection. Its close controller counts its calls per
// connection.
type probe struct {
	mu     sync.Mutex
	closes map[framework.ConnID]int
}

func (p *probe) register(r *framework.Router) {
	r.Handle("test.echo.echo", func(c *framework.Context) error {
		ps, err := c.Params()
		if err != nil {
			return err
		}
		return c.Success("ok", ps)
	})
	r.Handle("test.fail.panic", func(*framework.Context) error { panic("probe panics") })
	r.Handle("test.fail.unavailable", func(*framework.Context) error {
		return fmt.Errorf("probe: read the thing: %w", cache.ErrUnavailable)
	})
	r.Handle("test.fail.error", func(*framework.Context) error { return errors.New("probe failed") })
	r.Handle("test.guard.wall", func(c *framework.Context) error { return c.Success("ok", nil) },
		framework.Allow(framework.TypeWall))
	r.Handle("test.hooks.track", p.track)
	r.OnClose(probeCloser, p.onClose)
}

// track registers a close controller, a close key and a group for the
// calling connection and answers its connection id.
func (p *probe) track(c *framework.Context) error {
	app, id := c.App(), c.Client().ID()
	if err := app.FdAddController(id, probeCloser); err != nil {
		return err
	}
	if err := app.FdAddCloseKey(c.Context(), id, probeKey); err != nil {
		return err
	}
	if err := app.JoinGroup(c.Context(), id, probeGroup); err != nil {
		return err
	}
	return c.Success("tracked", map[string]framework.ConnID{"conn": id})
}

func (p *probe) onClose(_ context.Context, _ *framework.App, cl framework.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closes == nil {
		p.closes = make(map[framework.ConnID]int)
	}
	p.closes[cl.ID()]++
}

func (p *probe) count(id framework.ConnID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closes[id]
}

// start starts a node with the probe module.
func start(t testing.TB, cfg framework.Config) (*msgotest.Server, *probe) {
	t.Helper()
	p := &probe{}
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{p.register}, Config: cfg})
	return srv, p
}

func user(id string) framework.Identity {
	return framework.Identity{ID: id, Type: framework.TypeWechatUser, Code: "r1", Nickname: "n-" + id}
}

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// frame encodes a masked client frame.
func frame(fin bool, op ws.OpCode, payload []byte) []byte {
	return encode(ws.MaskFrameInPlace(ws.NewFrame(op, fin, bytes.Clone(payload))))
}

// encode writes f as it is: masked or not, whatever its header says.
func encode(f ws.Frame) []byte {
	var b bytes.Buffer
	if err := ws.WriteFrame(&b, f); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// header encodes a masked header alone, to send a frame without its payload.
func header(fin bool, op ws.OpCode, length int64) []byte {
	var b bytes.Buffer
	if err := ws.WriteHeader(&b, ws.Header{Fin: fin, OpCode: op, Masked: true, Mask: ws.NewMask(), Length: length}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// closeFrame encodes a masked close frame with a raw payload.
func closeFrame(payload []byte) []byte { return frame(true, ws.OpClose, payload) }

// rawClient is a WebSocket client that reads only when told to, frame by
// frame, so a test sees pongs and control frames and can stop reading.
type rawClient struct {
	net.Conn
	r io.Reader
}

// dialRaw connects as id; rcvbuf, when not 0, shrinks the socket's receive
// buffer before connecting, so the server's writes back up sooner.
func dialRaw(t testing.TB, srv *msgotest.Server, id framework.Identity, rcvbuf int) *rawClient {
	t.Helper()
	d := ws.Dialer{Timeout: msgotest.DefaultTimeout}
	if rcvbuf > 0 {
		d.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				err := rc.Control(func(fd uintptr) {
					serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
				})
				return errors.Join(err, serr)
			}}
			return nd.DialContext(ctx, network, addr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), msgotest.DefaultTimeout)
	defer cancel()
	conn, br, _, err := d.Dial(ctx, srv.URL+"?auth="+srv.Token(t, id))
	if err != nil {
		t.Fatalf("dial as %s: %v", id.ID, err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{Conn: conn, r: conn}
	if br != nil {
		c.r = io.MultiReader(br, conn)
	}
	return c
}

func (c *rawClient) write(t testing.TB, bs ...[]byte) {
	t.Helper()
	if _, err := c.Write(slices.Concat(bs...)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// next reads one whole server frame.
func (c *rawClient) next(t testing.TB) ws.Frame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(msgotest.DefaultTimeout))
	defer c.SetReadDeadline(time.Time{})
	f, err := ws.ReadFrame(c.r)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if f.Header.Masked {
		t.Fatalf("server frame is masked: %+v", f.Header)
	}
	return f
}

// awaitClose reads frames until the server's close frame, skipping the
// others, and returns its code and how many frames came before it.
func (c *rawClient) awaitClose(t testing.TB) (code ws.StatusCode, before int) {
	t.Helper()
	for {
		f := c.next(t)
		if f.Header.OpCode == ws.OpClose {
			code, _ = ws.ParseCloseFrameData(f.Payload)
			return code, before
		}
		before++
	}
}

// status sends a raw HTTP request to srv and returns the response status; 0
// when the server closed without answering.
func status(t testing.TB, srv *msgotest.Server, request string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr, msgotest.DefaultTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(msgotest.DefaultTimeout))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("write request: %v", err)
	}
	var code int
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0
	}
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &code); err != nil {
		t.Fatalf("status line %q: %v", line, err)
	}
	return code
}

// dialStatus dials url with d and returns the HTTP status of the answer (101
// on success, the client closed at once).
func dialStatus(t testing.TB, url string, d ws.Dialer) int {
	t.Helper()
	if d.Timeout == 0 {
		d.Timeout = msgotest.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), msgotest.DefaultTimeout)
	defer cancel()
	conn, _, _, err := d.Dial(ctx, url)
	if err == nil {
		conn.Close()
		return 101
	}
	var se ws.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("dial %s: %v", url, err)
	}
	return int(se)
}
