//go:build linux

package transport

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// isUpgrade reports whether a request head asks for a WebSocket upgrade.
func isUpgrade(head []byte) bool {
	for _, line := range bytes.Split(head, []byte("\r\n"))[1:] {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("Upgrade")) {
			return bytes.Contains(bytes.ToLower(v), []byte("websocket"))
		}
	}
	return false
}

// requestPath returns the path of a request head's request line.
func requestPath(head []byte) string {
	line, _, _ := bytes.Cut(head, []byte("\r\n"))
	parts := bytes.Fields(line)
	if len(parts) < 2 {
		return ""
	}
	p, _, _ := bytes.Cut(parts[1], []byte("?"))
	return string(p)
}

// httpSide serves the plain HTTP requests that arrive on the WebSocket port
// (the SDK and the pages) with net/http: the handshake worker hands such a
// connection over with the bytes it already read.
type httpSide struct {
	srv  *http.Server
	ln   *handoff
	done chan struct{}
}

func newHTTPSide(h http.Handler) *httpSide {
	hs := &httpSide{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second},
		ln:   &handoff{conns: make(chan net.Conn), closed: make(chan struct{})},
		done: make(chan struct{}),
	}
	go func() { hs.srv.Serve(hs.ln); close(hs.done) }()
	return hs
}

// serve hands nc to net/http; read is what was read from it so far.
func (hs *httpSide) serve(nc net.Conn, read []byte) {
	nc.SetDeadline(time.Time{})
	c := &replayConn{Conn: nc, r: io.MultiReader(bytes.NewReader(bytes.Clone(read)), nc)}
	select {
	case hs.ln.conns <- c:
	case <-hs.ln.closed:
		nc.Close()
	}
}

func (hs *httpSide) close() {
	hs.srv.Close()
	<-hs.done
}

// handoff is a net.Listener fed by the handshake workers.
type handoff struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *handoff) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *handoff) Addr() net.Addr { return &net.TCPAddr{} }

// replayConn reads the bytes already taken from the socket before the rest.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }
