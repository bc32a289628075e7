package msgotest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"msgo/framework"
)

// DefaultTimeout bounds every wait of a Client. It is generous because the
// whole suite runs under -race on two cores in CI.
const DefaultTimeout = 10 * time.Second

// Reply is one server frame.
type Reply struct {
	Status int             `json:"status"`
	Info   string          `json:"info"`
	Param  json.RawMessage `json:"param"`
	Event  string          `json:"event"`
	ID     json.RawMessage `json:"id,omitempty"`
}

// Decode unmarshals the reply's param into v.
func (r Reply) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Param, v); err != nil {
		t.Fatalf("msgotest: decode param of %s %q: %v", r.Event, r.Param, err)
	}
}

// Closed is how the server closed a connection.
type Closed struct {
	Code   ws.StatusCode
	Reason string
}

// Client is a real WebSocket client connected to a test node. Frames are
// read in the background and kept until awaited.
type Client struct {
	Conn   net.Conn
	mu     sync.Mutex
	frames []Reply
	raw    [][]byte
	closed *Closed
	err    error
	signal chan struct{}
	nextID atomic.Int64
	wmu    sync.Mutex
}

// Dial connects as id and fails the test if the handshake fails.
func (s *Server) Dial(t testing.TB, id framework.Identity) *Client {
	t.Helper()
	c, err := s.DialURL(s.URL + "?auth=" + s.Token(t, id))
	if err != nil {
		t.Fatalf("msgotest: dial as %s %s: %v", id.Type, id.ID, err)
	}
	t.Cleanup(c.Close)
	return c
}

// DialURL connects to url and starts reading.
func (s *Server) DialURL(url string) (*Client, error) {
	return Connect(url, ws.Dialer{Timeout: DefaultTimeout})
}

// Connect dials url with d and starts reading.
func Connect(url string, d ws.Dialer) (*Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	conn, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var r io.Reader = conn
	if br != nil {
		// Frames the server sent right after its 101 came in the same read.
		pending := make([]byte, br.Buffered())
		br.Read(pending)
		ws.PutReader(br)
		r = io.MultiReader(bytes.NewReader(pending), conn)
	}
	c := &Client{Conn: conn, signal: make(chan struct{}, 1)}
	go c.readLoop(r)
	return c, nil
}

func (c *Client) readLoop(src io.Reader) {
	r := wsutil.NewClientSideReader(src)
	for {
		h, err := r.NextFrame()
		if err != nil {
			c.finish(nil, err)
			return
		}
		body := make([]byte, h.Length)
		if _, err := readFull(r, body); err != nil {
			c.finish(nil, err)
			return
		}
		switch h.OpCode {
		case ws.OpClose:
			code, reason := ws.ParseCloseFrameData(body)
			c.wmu.Lock()
			ws.WriteFrame(c.Conn, ws.MaskFrame(ws.NewCloseFrame(body)))
			c.wmu.Unlock()
			c.finish(&Closed{Code: code, Reason: reason}, nil)
			return
		case ws.OpPing:
			c.wmu.Lock()
			ws.WriteFrame(c.Conn, ws.MaskFrame(ws.NewPongFrame(body)))
			c.wmu.Unlock()
			continue
		case ws.OpPong:
			continue
		}
		var rep Reply
		json.Unmarshal(body, &rep)
		c.mu.Lock()
		c.frames = append(c.frames, rep)
		c.raw = append(c.raw, body)
		c.mu.Unlock()
		c.wake()
	}
}

func readFull(r *wsutil.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil && n < len(b) {
			return n, err
		}
	}
	return n, nil
}

func (c *Client) finish(cl *Closed, err error) {
	c.mu.Lock()
	if c.closed == nil && c.err == nil {
		c.closed, c.err = cl, err
	}
	c.mu.Unlock()
	c.wake()
}

func (c *Client) wake() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// Close closes the TCP connection.
func (c *Client) Close() { c.Conn.Close() }

// Write sends one text frame.
func (c *Client) Write(t testing.TB, payload []byte) {
	t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := wsutil.WriteClientText(c.Conn, payload); err != nil {
		t.Fatalf("msgotest: write: %v", err)
	}
}

// TryWrite sends one text frame and returns the error instead of failing
// the test, for writers that race a server closing the connection.
func (c *Client) TryWrite(payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return wsutil.WriteClientText(c.Conn, payload)
}

// WriteFrame sends a frame exactly as given (the caller masks it, or not).
func (c *Client) WriteFrame(t testing.TB, f ws.Frame) {
	t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := ws.WriteFrame(c.Conn, f); err != nil {
		t.Fatalf("msgotest: write frame: %v", err)
	}
}

// WriteRaw sends bytes as they are.
func (c *Client) WriteRaw(t testing.TB, b []byte) {
	t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.Conn.Write(b); err != nil {
		t.Fatalf("msgotest: write raw: %v", err)
	}
}

// Call sends a request with a fresh numeric id and no wait.
func (c *Client) Call(t testing.TB, method string, params map[string]any) json.RawMessage {
	t.Helper()
	id := json.RawMessage(strconv.FormatInt(c.nextID.Add(1), 10))
	m := map[string]any{"method": method, "id": id}
	for k, v := range params {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("msgotest: encode request: %v", err)
	}
	c.Write(t, b)
	return id
}

// Request sends a request and waits for the reply carrying its id.
func (c *Client) Request(t testing.TB, method string, params map[string]any) Reply {
	t.Helper()
	id := c.Call(t, method, params)
	return c.AwaitID(t, id)
}

// AwaitID waits for the next frame answering id and removes it.
func (c *Client) AwaitID(t testing.TB, id json.RawMessage) Reply {
	t.Helper()
	return c.await(t, "reply to id "+string(id), IsReplyTo(id))
}

// Await waits for the next frame with event and removes it.
func (c *Client) Await(t testing.TB, event string) Reply {
	t.Helper()
	return c.await(t, "event "+event, func(r Reply) bool { return r.Event == event })
}

// AwaitPush waits for the next push of event and removes it. A reply's
// event is its method, and several pushes share a method's name
// (live.user.join), so a push is told apart by its missing id.
func (c *Client) AwaitPush(t testing.TB, event string) Reply {
	t.Helper()
	return c.await(t, "push "+event, IsPush(event))
}

// IsPush matches a push of event (a frame without an id), for Next.
func IsPush(event string) func(Reply) bool {
	return func(r Reply) bool { return r.Event == event && len(r.ID) == 0 }
}

// NoPush fails the test if any of cls receives a push of event within one
// window of d (shared by all of them); who names them in failures.
func NoPush(t testing.TB, d time.Duration, event, who string, cls ...*Client) {
	t.Helper()
	time.Sleep(d)
	for i, cl := range cls {
		if r, err := cl.Next(0, IsPush(event)); err == nil {
			t.Errorf("%s %d got an unexpected %s: %s", who, i, event, r.Param)
		}
	}
}

// IsReplyTo matches the frames answering the request id, for Next.
func IsReplyTo(id json.RawMessage) func(Reply) bool {
	return func(r Reply) bool { return string(r.ID) == string(id) }
}

// AwaitMatch waits for the next frame for which match is true and removes it.
func (c *Client) AwaitMatch(t testing.TB, what string, match func(Reply) bool) Reply {
	t.Helper()
	return c.await(t, what, match)
}

// Frames returns and removes every frame received so far.
func (c *Client) Frames() []Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.frames
	c.frames, c.raw = nil, nil
	return f
}

// Raw returns the payloads received so far, in order, without removing them.
func (c *Client) Raw() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.raw...)
}

// ErrNoFrame means a wait ended without the frame.
var ErrNoFrame = errors.New("msgotest: no such frame")

func (c *Client) await(t testing.TB, what string, match func(Reply) bool) Reply {
	t.Helper()
	r, err := c.Next(DefaultTimeout, match)
	if err != nil {
		t.Fatalf("msgotest: waiting for %s: %v", what, err)
	}
	return r
}

// Next waits up to timeout for a frame for which match is true and removes
// it; it does not fail the test, so it can check that nothing arrives.
func (c *Client) Next(timeout time.Duration, match func(Reply) bool) (Reply, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for i, r := range c.frames {
			if match(r) {
				c.frames = append(c.frames[:i:i], c.frames[i+1:]...)
				c.raw = append(c.raw[:i:i], c.raw[i+1:]...)
				c.mu.Unlock()
				return r, nil
			}
		}
		closed, err := c.closed, c.err
		c.mu.Unlock()
		if closed != nil {
			return Reply{}, errors.Join(ErrNoFrame, errors.New("connection closed with "+strconv.Itoa(int(closed.Code))))
		}
		if err != nil {
			return Reply{}, errors.Join(ErrNoFrame, err)
		}
		select {
		case <-c.signal:
		case <-deadline.C:
			return Reply{}, ErrNoFrame
		}
	}
}

// AwaitClose waits for the server's close frame and returns it; it fails the
// test if the connection ends without one.
func (c *Client) AwaitClose(t testing.TB) Closed {
	t.Helper()
	deadline := time.NewTimer(DefaultTimeout + 5*time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		closed, err := c.closed, c.err
		c.mu.Unlock()
		if closed != nil {
			return *closed
		}
		if err != nil {
			t.Fatalf("msgotest: connection ended without a close frame: %v", err)
		}
		select {
		case <-c.signal:
		case <-deadline.C:
			t.Fatalf("msgotest: no close frame")
		}
	}
}
