package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// maxPayload bounds one server message the client will read; the server's
// own frames are far smaller, so a larger one means a broken stream.
const maxPayload = 1 << 20

// conn is one client WebSocket connection. One goroutine reads it (the pool's
// reader, or the dialer before that); writes come from that reader (pong,
// close, rpc's next request) and from the heartbeat, so they take wmu.
//
// An idle conn holds a small bufio.Reader, a payload buffer as large as the
// largest message it has read, and its reader goroutine's stack: a few KiB.
type conn struct {
	nc   net.Conn
	br   *bufio.Reader
	idx  int    // position in the pool; scenarios keep per-connection state by it
	rbuf []byte // payload being read; reused, borrowed by handlers
	frag []byte // a fragmented message being reassembled

	wmu  sync.Mutex
	wbuf []byte
}

// closeError is the server's close frame.
type closeError struct {
	code   ws.StatusCode
	reason string
}

func (e *closeError) Error() string {
	return fmt.Sprintf("closed by the server with %d %q", e.code, e.reason)
}

// next returns the next data message. Pings are answered, pongs skipped, a
// close frame is echoed and returned as a *closeError. The slice is valid
// until the following call.
func (c *conn) next() ([]byte, error) {
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return nil, err
		}
		if h.Length > maxPayload || int64(len(c.frag))+h.Length > maxPayload {
			return nil, fmt.Errorf("server frame of %d bytes, limit %d", h.Length, maxPayload)
		}
		n := int(h.Length)
		if cap(c.rbuf) < n {
			c.rbuf = make([]byte, n)
		}
		p := c.rbuf[:n]
		if _, err := io.ReadFull(c.br, p); err != nil {
			return nil, err
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpPing:
			if err := c.write(ws.OpPong, p); err != nil {
				return nil, err
			}
			continue
		case ws.OpPong:
			continue
		case ws.OpClose:
			code, reason := ws.ParseCloseFrameData(p)
			c.write(ws.OpClose, p) // best effort: we are done either way
			return nil, &closeError{code: code, reason: reason}
		case ws.OpContinuation:
			c.frag = append(c.frag, p...)
			if !h.Fin {
				continue
			}
			msg := append(c.rbuf[:0], c.frag...)
			c.rbuf, c.frag = msg, c.frag[:0]
			return msg, nil
		}
		if !h.Fin {
			c.frag = append(c.frag[:0], p...)
			continue
		}
		return p, nil
	}
}

// write sends one masked frame with a fresh mask, in a single write.
func (c *conn) write(op ws.OpCode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	mask := ws.NewMask()
	b := appendClientHeader(c.wbuf[:0], op, len(p), mask)
	start := len(b)
	b = append(b, p...)
	ws.Cipher(b[start:], mask, 0)
	_, err := c.nc.Write(b)
	if cap(b) <= 512 { // keep small buffers for the next request; idle conns drop big ones
		c.wbuf = b
	}
	return err
}

// writeRaw sends bytes that already form whole masked frames.
func (c *conn) writeRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

// compiledPing is a masked ping without payload; with nothing to mask the
// mask key does not matter, so one frame serves every heartbeat.
var compiledPing = []byte{0x80 | byte(ws.OpPing), 0x80, 0, 0, 0, 0}

// appendClientHeader appends a final, masked frame header.
func appendClientHeader(b []byte, op ws.OpCode, n int, mask [4]byte) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, mask[:]...)
}

// close drops the connection without a closing handshake: linger 0 sends a
// reset, so neither side keeps the socket in TIME_WAIT and repeated runs do
// not exhaust ports.
func (c *conn) close() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.nc.Close()
}

// joinID is the request id of live.user.join; no user id the bench mints
// looks like it.
const joinID = "bench-join"

var joinRequest = []byte(`{"method":"live.user.join","id":"` + joinID + `"}`)

// join calls live.user.join and waits for its reply, skipping the room's
// pushes that may come first. It must run before the reader goroutine starts.
func (c *conn) join(timeout time.Duration) error {
	if err := c.write(ws.OpText, joinRequest); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		msg, err := c.next()
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		if !bytes.Contains(msg, []byte(`"id":"`+joinID+`"`)) {
			continue
		}
		if st := statusOf(msg); st != 200 {
			return fmt.Errorf("live.user.join answered %d (is the live module loaded?)", st)
		}
		return nil
	}
}

// dialer opens authenticated connections, spreading them over loopback
// source addresses so that more than one port range is available.
type dialer struct {
	sources []net.IP // nil: the kernel picks the source
	timeout time.Duration
	readBuf int
}

// dial connects connection idx to ep with token.
func (d *dialer) dial(ctx context.Context, ep endpoint, idx int, token string) (*conn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	if len(d.sources) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: d.sources[idx%len(d.sources)]}
		nd.Control = bindNoPort
	}
	wd := ws.Dialer{
		NetDial:         nd.DialContext,
		Timeout:         d.timeout,
		ReadBufferSize:  512, // the upgrade response only; pooled by gobwas
		WriteBufferSize: 512,
	}
	nc, br, _, err := wd.Dial(ctx, ep.withToken(token))
	if err != nil {
		return nil, err
	}
	var r io.Reader = nc
	if br != nil {
		// The server's first frame came with the upgrade response.
		pending := make([]byte, br.Buffered())
		br.Read(pending)
		ws.PutReader(br)
		r = io.MultiReader(bytes.NewReader(pending), nc)
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(r, d.readBuf), idx: idx}, nil
}

// endpoint is a node's WebSocket URL, checked to be on loopback.
type endpoint struct {
	url string // without the auth parameter
}

func (ep endpoint) withToken(token string) string {
	if strings.Contains(ep.url, "?") {
		return ep.url + "&auth=" + token
	}
	return ep.url + "?auth=" + token
}

// statusOf returns the "status" of a server frame, or 0. Frames from msgo
// start with it, which saves a JSON decode on the hot path.
func statusOf(msg []byte) int {
	n, ok := intAfter(msg, `"status":`)
	if !ok {
		return 0
	}
	return int(n)
}

// intAfter parses the JSON integer that follows the first occurrence of key.
func intAfter(msg []byte, key string) (int64, bool) {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return 0, false
	}
	i += len(key)
	for i < len(msg) && msg[i] == ' ' {
		i++
	}
	neg := i < len(msg) && msg[i] == '-'
	if neg {
		i++
	}
	var n int64
	start := i
	for ; i < len(msg) && msg[i] >= '0' && msg[i] <= '9'; i++ {
		n = n*10 + int64(msg[i]-'0')
	}
	if i == start {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}
