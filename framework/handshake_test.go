package framework_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// upgrade is a valid upgrade request for path, with extra header lines.
func upgrade(path string, extra ...string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: msgo.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + strings.Join(extra, "") + "\r\n"
}

// mintAt mints a token on srv's secret with the codec's clock set to now.
func mintAt(t *testing.T, srv *msgotest.Server, now time.Time) string {
	t.Helper()
	c := encrypt.New(srv.Secret, 24*time.Hour) // msgotest's ttl
	c.Now = func() time.Time { return now }
	tok, err := c.Mint(encrypt.Claims{ID: "u1", Type: encrypt.TypeWechatUser})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestHandshakeToken(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	good := srv.Token(t, user("u1"))
	tampered := []byte(good)
	if tampered[len(good)/2] == 'A' {
		tampered[len(good)/2] = 'B'
	} else {
		tampered[len(good)/2] = 'A'
	}
	other, err := encrypt.New("another secret", time.Hour).Mint(encrypt.Claims{ID: "u1", Type: encrypt.TypeWall})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, c := range []struct {
		name, query string
		want        int
	}{
		{"valid", "?auth=" + good, 101},
		{"valid among other parameters", "?a=1&auth=" + good + "&b=2", 101},
		{"missing", "", 403},
		{"empty", "?auth=", 403},
		{"not a token", "?auth=not-a-token", 403},
		{"sealed with another secret", "?auth=" + other, 403},
		{"tampered", "?auth=" + string(tampered), 403},
		{"expired", "?auth=" + mintAt(t, srv, now.Add(-25*time.Hour)), 403},
		{"almost expired", "?auth=" + mintAt(t, srv, now.Add(-23*time.Hour)), 101},
		{"from the future", "?auth=" + mintAt(t, srv, now.Add(2*time.Minute)), 403},
		{"within the clock skew", "?auth=" + mintAt(t, srv, now.Add(30*time.Second)), 101},
	} {
		if got := dialStatus(t, srv.URL+c.query, ws.Dialer{}); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
}

func TestHandshakeSubprotocolToken(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	tok := srv.Token(t, user("sub"))

	d := ws.Dialer{Timeout: msgotest.DefaultTimeout, Protocols: []string{"msgo", "auth." + tok}}
	ctx, cancel := context.WithTimeout(context.Background(), msgotest.DefaultTimeout)
	defer cancel()
	conn, _, hs, err := d.Dial(ctx, srv.URL)
	if err != nil {
		t.Fatalf("dial with the token as a subprotocol: %v", err)
	}
	conn.Close()
	if hs.Protocol != "msgo" {
		t.Fatalf("selected subprotocol %q, want msgo", hs.Protocol)
	}

	cl, err := msgotest.Connect(srv.URL, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if r := cl.Request(t, "test.echo.echo", nil); r.Status != 200 {
		t.Fatalf("request over a subprotocol-authenticated connection: %+v", r)
	}

	bad := ws.Dialer{Protocols: []string{"msgo", "auth.x" + tok}}
	if got := dialStatus(t, srv.URL, bad); got != 403 {
		t.Fatalf("bad token as a subprotocol: status %d, want 403", got)
	}
	if got := dialStatus(t, srv.URL, ws.Dialer{Protocols: []string{"msgo"}}); got != 403 {
		t.Fatalf("msgo offered without a token: status %d, want 403", got)
	}
}

func TestHandshakePaths(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	q := "?auth=" + srv.Token(t, user("u1"))
	base := "ws://" + srv.Addr
	for path, want := range map[string]int{"/": 101, "/ws": 101, "/other": 404, "/ws/": 404, "/wss": 404} {
		if got := dialStatus(t, base+path+q, ws.Dialer{}); got != want {
			t.Errorf("path %s: status %d, want %d", path, got, want)
		}
	}
	// A wrong path is refused before the token is looked at.
	if got := dialStatus(t, base+"/other", ws.Dialer{}); got != 404 {
		t.Errorf("wrong path without a token: status %d, want 404", got)
	}
}

func TestHandshakeNotAnUpgrade(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	path := "/ws?auth=" + srv.Token(t, user("u1"))
	for name, req := range map[string]string{
		"plain GET":     "GET " + path + " HTTP/1.1\r\nHost: msgo.test\r\n\r\n",
		"POST":          strings.Replace(upgrade(path), "GET", "POST", 1),
		"no key":        strings.Replace(upgrade(path), "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 1),
		"bad key":       strings.Replace(upgrade(path), "dGhlIHNhbXBsZSBub25jZQ==", "short", 1),
		"no upgrade":    strings.Replace(upgrade(path), "Upgrade: websocket\r\n", "", 1),
		"no version":    strings.Replace(upgrade(path), "Sec-WebSocket-Version: 13\r\n", "", 1),
		"no host":       strings.Replace(upgrade(path), "Host: msgo.test\r\n", "", 1),
		"no HTTP/1.1":   strings.Replace(upgrade(path), " HTTP/1.1", "", 1),
		"garbage":       "hello\r\n\r\n",
		"header no sep": strings.Replace(upgrade(path), "Host: msgo.test", "Host msgo.test", 1),
	} {
		if got := status(t, srv, req); got != 400 {
			t.Errorf("%s: status %d, want 400", name, got)
		}
	}
	if got := status(t, srv, upgrade(path)); got != 101 {
		t.Fatalf("the same request as a valid upgrade: status %d", got)
	}
}

func TestHandshakeSize(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	path := "/ws?auth=" + srv.Token(t, user("u1"))

	// Exactly the limit without the blank line: the server reads all of it,
	// so it answers before closing (more bytes could turn its close into a
	// reset that hides the answer).
	head := upgrade(path)
	head = head[:len(head)-2] + "X-Pad: "
	over := head + strings.Repeat("a", framework.MaxHandshakeBytes-len(head))
	if got := status(t, srv, over); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("handshake of 16 KiB without its end: status %d, want 431", got)
	}

	pad := "X-Pad: " + strings.Repeat("a", 15<<10) + "\r\n"
	if got := status(t, srv, upgrade(path, pad)); got != 101 {
		t.Fatalf("handshake of 15 KiB: status %d, want 101", got)
	}
}

func TestHandshakeLimits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		cfg  framework.Config
		want int
	}{
		{"per IP", framework.Config{MaxConnsPerIP: 2}, 429},
		{"max connections", framework.Config{MaxConnections: 2}, 503},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := start(t, c.cfg)
			a := srv.Dial(t, user("a"))
			srv.Dial(t, user("b"))
			if got := dialStatus(t, srv.URL+"?auth="+srv.Token(t, user("c")), ws.Dialer{}); got != c.want {
				t.Fatalf("third connection: status %d, want %d", got, c.want)
			}
			a.Close()
			eventually(t, "a closed connection frees its place", func() bool { return srv.Connections() == 1 })
			srv.Dial(t, user("c"))
		})
	}
}

// TestHandshakeDraining refuses handshakes with 503 while Stop waits for its
// connections: a client that never answers the close keeps Stop waiting
// until its close timeout.
func TestHandshakeDraining(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{CloseTimeout: 3 * time.Second})
	held := dialRaw(t, srv, user("held"), 0)
	stopped := make(chan struct{})
	go func() {
		srv.Server.Stop(context.Background(), 1001, 0)
		close(stopped)
	}()
	eventually(t, "the server drains", srv.Draining)
	if got := dialStatus(t, srv.URL+"?auth="+srv.Token(t, user("late")), ws.Dialer{}); got != 503 {
		t.Fatalf("handshake while draining: status %d, want 503", got)
	}
	if code, _ := held.awaitClose(t); code != 1001 {
		t.Fatalf("held connection closed with %d, want 1001", code)
	}
	held.write(t, closeFrame(ws.NewCloseFrameBody(1001, "")))
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("Stop did not return")
	}
}

func TestHandshakeOrigin(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{AllowedOrigins: []string{"https://ok.example"}})
	url := srv.URL + "?auth=" + srv.Token(t, user("u1"))
	for origin, want := range map[string]int{
		"":                       101, // not a browser
		"https://ok.example":     101,
		"https://evil.example":   403,
		"http://ok.example":      403,
		"https://ok.example:444": 403,
	} {
		d := ws.Dialer{}
		if origin != "" {
			d.Header = ws.HandshakeHeaderHTTP(http.Header{"Origin": {origin}})
		}
		if got := dialStatus(t, url, d); got != want {
			t.Errorf("origin %q: status %d, want %d", origin, got, want)
		}
	}
}

// TestHandshakeForwardedFor counts X-Real-IP and X-Forwarded-For for the
// per-IP limit only when the peer is a trusted proxy.
func TestHandshakeForwardedFor(t *testing.T) {
	t.Parallel()
	dial := func(t *testing.T, srv *msgotest.Server, name string, h http.Header) int {
		t.Helper()
		d := ws.Dialer{Timeout: msgotest.DefaultTimeout, Header: ws.HandshakeHeaderHTTP(h)}
		cl, err := msgotest.Connect(srv.URL+"?auth="+srv.Token(t, user(name)), d)
		if err != nil {
			var se ws.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("dial %s: %v", name, err)
			}
			return int(se)
		}
		t.Cleanup(cl.Close)
		return 101
	}
	realIP := func(ip string) http.Header { return http.Header{"X-Real-Ip": {ip}} }
	fwd := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

	type attempt struct {
		h    http.Header
		want int
	}
	for _, c := range []struct {
		name     string
		proxies  []netip.Prefix
		attempts []attempt
	}{
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, []attempt{
			{realIP("10.0.0.1"), 101},
			{realIP("10.0.0.2"), 101},
			{realIP("10.0.0.1"), 429},
			{fwd("10.0.0.3, 127.0.0.9"), 101}, // the right-most hop that is not a proxy
			{fwd("10.0.0.3"), 429},
			{fwd("10.0.0.9, 10.0.0.4"), 101},
			{nil, 101}, // the proxy itself
			{nil, 429},
		}},
		{"untrusted peer", nil, []attempt{
			{realIP("10.0.0.1"), 101},
			{realIP("10.0.0.2"), 429},
			{fwd("10.0.0.3"), 429},
			{nil, 429},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := start(t, framework.Config{MaxConnsPerIP: 1, TrustedProxies: c.proxies})
			for i, a := range c.attempts {
				if got := dial(t, srv, fmt.Sprint("u", i), a.h); got != a.want {
					t.Errorf("attempt %d %v: status %d, want %d", i, a.h, got, a.want)
				}
			}
		})
	}
}

// TestFrameWithHandshake sends the first frame in the same write as the
// upgrade request: the bytes after the head belong to the connection.
func TestFrameWithHandshake(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(msgotest.DefaultTimeout))
	req := upgrade("/ws?auth=" + srv.Token(t, user("eager")))
	msg := frame(true, ws.OpText, []byte(`{"method":"test.echo.echo","id":"first","x":1}`))
	if _, err := conn.Write(append([]byte(req), msg...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	f, err := ws.ReadFrame(br)
	if err != nil {
		t.Fatal(err)
	}
	var r msgotest.Reply
	if err := json.Unmarshal(f.Payload, &r); err != nil || r.Status != 200 || string(r.ID) != `"first"` || string(r.Param) != `{"x":1}` {
		t.Fatalf("reply to the frame sent with the handshake: %s (%v)", f.Payload, err)
	}
}

// headStatus sends a raw upgrade request head and returns the answer's status.
func headStatus(t *testing.T, srv *msgotest.Server, head string) (int, http.Header) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(msgotest.DefaultTimeout))
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// A handshake carries one token exactly, and its claims name a user: a token
// with an empty id, two auth parameters (even the same token twice), or a
// query token beside a subprotocol token answer 403, whichever comes first
// and in however many Sec-WebSocket-Protocol headers.
func TestHandshakeOneTokenWithAnID(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	a, b := srv.Token(t, user("a")), srv.Token(t, user("b"))
	noID, err := srv.Codec.Mint(encrypt.Claims{ID: "", Type: encrypt.TypeWechatUser, Code: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	proto := func(v string) string { return "Sec-WebSocket-Protocol: " + v + "\r\n" }
	for _, c := range []struct {
		name, head string
		want       int
	}{
		{"one query token", upgrade("/ws?auth=" + a), 101},
		{"one subprotocol token", upgrade("/ws", proto("msgo, auth."+a)), 101},
		{"subprotocol token in its own header", upgrade("/ws", proto("msgo"), proto("auth."+a)), 101},
		{"empty id", upgrade("/ws?auth=" + noID), 403},
		{"empty id as a subprotocol", upgrade("/ws", proto("msgo, auth."+noID)), 403},
		{"two auth parameters", upgrade("/ws?auth=" + a + "&auth=" + b), 403},
		{"the same token twice", upgrade("/ws?auth=" + a + "&auth=" + a), 403},
		{"a bad one then a good one", upgrade("/ws?auth=x&auth=" + a), 403},
		{"query and subprotocol", upgrade("/ws?auth="+a, proto("msgo, auth."+b)), 403},
		{"query and the same subprotocol token", upgrade("/ws?auth="+a, proto("msgo, auth."+a)), 403},
		{"two subprotocol tokens", upgrade("/ws", proto("msgo, auth."+a+", auth."+b)), 403},
		{"subprotocol tokens in two headers", upgrade("/ws", proto("msgo, auth."+a), proto("auth."+b)), 403},
	} {
		status, hdr := headStatus(t, srv, c.head)
		if status != c.want {
			t.Errorf("%s: status %d, want %d", c.name, status, c.want)
		}
		if status == 101 && strings.Contains(c.head, "Sec-WebSocket-Protocol") && hdr.Get("Sec-WebSocket-Protocol") != "msgo" {
			t.Errorf("%s: selected %q, want msgo", c.name, hdr.Get("Sec-WebSocket-Protocol"))
		}
	}
}
