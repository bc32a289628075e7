package framework_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// echoRequest is a test.echo.echo request padded to exactly size bytes.
func echoRequest(id, size int) []byte {
	b := fmt.Appendf(nil, `{"method":"test.echo.echo","id":%d,"pad":""}`, id)
	pad := strings.Repeat("p", size-len(b))
	return fmt.Appendf(nil, `{"method":"test.echo.echo","id":%d,"pad":"%s"}`, id, pad)
}

// TestProtocolErrors sends each frame a client must not send and expects the
// close code docs/protocol.md gives it.
func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{MaxFrameSize: 1024, MaxMessageSize: 2048})
	text := []byte(`{"method":"test.echo.echo"}`)
	unmasked := encode(ws.NewTextFrame(text))
	rsv := ws.MaskFrameInPlace(ws.NewTextFrame(bytes.Clone(text)))
	rsv.Header.Rsv = ws.Rsv(true, false, false)
	topBit := header(true, ws.OpBinary, 0)
	topBit[1] = 0x80 | 127
	topBit = append(topBit[:2], append(binary.BigEndian.AppendUint64(nil, 1<<63|5), topBit[2:]...)...)
	longPing := header(true, ws.OpPing, 126)
	closeCode := func(code int) []byte { return closeFrame(binary.BigEndian.AppendUint16(nil, uint16(code))) }

	for _, c := range []struct {
		name string
		send [][]byte
		want ws.StatusCode
	}{
		{"unmasked frame", [][]byte{unmasked}, 1002},
		{"RSV bit", [][]byte{encode(rsv)}, 1002},
		{"reserved data opcode", [][]byte{frame(true, 0x3, text)}, 1002},
		{"reserved control opcode", [][]byte{frame(true, 0xB, nil)}, 1002},
		{"ping over 125 bytes", [][]byte{longPing}, 1002},
		{"fragmented ping", [][]byte{frame(false, ws.OpPing, []byte("x"))}, 1002},
		{"continuation without a message", [][]byte{frame(true, ws.OpContinuation, text)}, 1002},
		{"text inside a fragmented message", [][]byte{frame(false, ws.OpText, text[:5]), frame(true, ws.OpText, text)}, 1002},
		{"binary inside a fragmented message", [][]byte{frame(false, ws.OpBinary, text[:5]), frame(false, ws.OpBinary, text)}, 1002},
		{"64-bit length with the top bit", [][]byte{topBit}, 1002},
		{"close with a 1-byte payload", [][]byte{closeFrame([]byte{3})}, 1002},
		{"close 1005", [][]byte{closeCode(1005)}, 1002},
		{"close 1006", [][]byte{closeCode(1006)}, 1002},
		{"close 1015", [][]byte{closeCode(1015)}, 1002},
		{"close 999", [][]byte{closeCode(999)}, 1002},
		{"close 2999", [][]byte{closeCode(2999)}, 1002},
		{"close 1004", [][]byte{closeCode(1004)}, 1002},
		{"close 5000", [][]byte{closeCode(5000)}, 1002},
		{"invalid UTF-8 in a text frame", [][]byte{frame(true, ws.OpText, []byte("{\"method\":\"\xff\"}"))}, 1007},
		{"invalid UTF-8 across fragments", [][]byte{
			frame(false, ws.OpText, []byte(`{"method":"`)),
			frame(false, ws.OpContinuation, []byte("\xe2\x82")),
			frame(true, ws.OpContinuation, []byte(`x"}`)),
		}, 1007},
		{"invalid UTF-8 in a close reason", [][]byte{closeFrame(append(binary.BigEndian.AppendUint16(nil, 1000), 0xff))}, 1007},
		{"frame over max_frame_size, header only", [][]byte{header(true, ws.OpText, 1025)}, 1009},
		{"fragment over max_frame_size, header only", [][]byte{frame(false, ws.OpText, text), header(false, ws.OpContinuation, 1025)}, 1009},
		{"message over max_message_size, header only", [][]byte{
			frame(false, ws.OpText, bytes.Repeat([]byte(" "), 1000)),
			frame(false, ws.OpContinuation, bytes.Repeat([]byte(" "), 1000)),
			header(true, ws.OpContinuation, 49),
		}, 1009},
		{"fragment header within both limits", [][]byte{header(false, ws.OpText, 1024)}, 0}, // no close
		{"client close 1000 is echoed", [][]byte{closeCode(1000)}, 1000},
		{"client close 1001 is echoed", [][]byte{closeCode(1001)}, 1001},
		{"client close 3000 is echoed", [][]byte{closeCode(3000)}, 3000},
		{"client close 4999 is echoed", [][]byte{closeCode(4999)}, 4999},
		{"empty client close answers 1000", [][]byte{closeFrame(nil)}, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cl := srv.Dial(t, user("p"))
			for _, b := range c.send {
				cl.WriteRaw(t, b)
			}
			if c.want == 0 {
				if _, err := cl.Next(200*time.Millisecond, func(msgotest.Reply) bool { return true }); err == nil {
					t.Fatal("unexpected frame")
				}
				return
			}
			if got := cl.AwaitClose(t); got.Code != c.want {
				t.Fatalf("closed with %d %q, want %d", got.Code, got.Reason, c.want)
			}
		})
	}
}

// TestMessageSizes accepts a frame of exactly max_frame_size and a
// fragmented message of exactly max_message_size.
func TestMessageSizes(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{MaxFrameSize: 1024, MaxMessageSize: 2048})
	cl := srv.Dial(t, user("s"))
	cl.WriteRaw(t, frame(true, ws.OpText, echoRequest(1, 1024)))
	if r := cl.AwaitID(t, json.RawMessage("1")); r.Status != 200 {
		t.Fatalf("frame of max_frame_size: %+v", r)
	}
	msg := echoRequest(2, 2048)
	cl.WriteRaw(t, frame(false, ws.OpText, msg[:1024]))
	cl.WriteRaw(t, frame(false, ws.OpContinuation, msg[1024:2000]))
	cl.WriteRaw(t, frame(true, ws.OpContinuation, msg[2000:]))
	if r := cl.AwaitID(t, json.RawMessage("2")); r.Status != 200 {
		t.Fatalf("message of max_message_size: %+v", r)
	}
	// A code point split between fragments is valid UTF-8.
	cl.WriteRaw(t, frame(false, ws.OpText, []byte(`{"method":"test.echo.echo","id":3,"s":"`+"\xe2\x82")))
	cl.WriteRaw(t, frame(true, ws.OpContinuation, []byte("\xac\"}")))
	var p struct{ S string }
	cl.AwaitID(t, json.RawMessage("3")).Decode(t, &p)
	if p.S != "€" {
		t.Fatalf("split code point: %q", p.S)
	}
	// Binary frames are read the same way.
	cl.WriteRaw(t, frame(true, ws.OpBinary, []byte(`{"method":"test.echo.echo","id":4}`)))
	if r := cl.AwaitID(t, json.RawMessage("4")); r.Status != 200 {
		t.Fatalf("binary frame: %+v", r)
	}
}

// TestFrameInPieces sends a large frame in two writes split at awkward
// sizes (the pooled read buffer, size classes, the frame header): whatever
// the server holds between reads, the frame is answered.
func TestFrameInPieces(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{MaxFrameSize: 1 << 20})
	msg := frame(true, ws.OpText, echoRequest(1, 100<<10))
	var wg sync.WaitGroup
	for _, split := range []int{1, 2, 4, 13, 14, 15, 16 << 10, 16<<10 + 1, 20480, 21760, 24576, 27264, 28672, 32768, 40960, 49152, 65536, 81920, len(msg) - 1} {
		wg.Go(func() {
			cl := srv.Dial(t, user(fmt.Sprint("split", split)))
			cl.WriteRaw(t, msg[:split])
			time.Sleep(100 * time.Millisecond) // let the server read the first piece alone
			cl.WriteRaw(t, msg[split:])
			r, err := cl.Next(msgotest.DefaultTimeout, func(r msgotest.Reply) bool { return string(r.ID) == "1" })
			if err != nil || r.Status != 200 {
				t.Errorf("frame split at %d: %+v %v", split, r, err)
			}
		})
	}
	wg.Wait()
}

// TestControlFrames answers pings, between the fragments of a message too,
// with pongs carrying their payload, and still assembles the message.
func TestControlFrames(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	c := dialRaw(t, srv, user("ctl"), 0)

	c.write(t, frame(true, ws.OpPing, []byte("hello")))
	if f := c.next(t); f.Header.OpCode != ws.OpPong || string(f.Payload) != "hello" {
		t.Fatalf("answer to a ping: %+v %q", f.Header, f.Payload)
	}
	c.write(t, frame(true, ws.OpPing, nil))
	if f := c.next(t); f.Header.OpCode != ws.OpPong || len(f.Payload) != 0 {
		t.Fatalf("answer to an empty ping: %+v %q", f.Header, f.Payload)
	}
	long := bytes.Repeat([]byte("z"), 125)
	c.write(t,
		frame(false, ws.OpText, []byte(`{"method":"test.echo.echo",`)),
		frame(true, ws.OpPing, []byte("between")),
		frame(false, ws.OpContinuation, []byte(`"id":"frag",`)),
		frame(true, ws.OpPong, []byte("unsolicited")),
		frame(true, ws.OpPing, long),
		frame(true, ws.OpContinuation, []byte(`"x":1}`)),
	)
	for _, want := range []string{"between", string(long)} {
		if f := c.next(t); f.Header.OpCode != ws.OpPong || string(f.Payload) != want {
			t.Fatalf("pong between fragments: %+v %q, want %q", f.Header, f.Payload, want)
		}
	}
	f := c.next(t)
	var r msgotest.Reply
	if err := json.Unmarshal(f.Payload, &r); err != nil || r.Status != 200 || string(r.ID) != `"frag"` || string(r.Param) != `{"x":1}` {
		t.Fatalf("fragmented message: %s %v", f.Payload, err)
	}
}

// TestCloseThenHugeHeader sends, after a close frame, a frame header that
// claims 2^63-1 bytes: the closing connection must read past it without
// harm, and the server keeps serving.
func TestCloseThenHugeHeader(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, framework.Config{})
	huge := header(true, ws.OpText, 0)
	huge[1] = 0x80 | 127
	huge = append(huge[:2], append(binary.BigEndian.AppendUint64(nil, 1<<63-1), huge[2:]...)...)
	for _, first := range [][]byte{
		closeFrame(ws.NewCloseFrameBody(1000, "")),
		encode(ws.NewTextFrame([]byte("unmasked"))), // the server closes with 1002
	} {
		cl := srv.Dial(t, user("huge"))
		cl.WriteRaw(t, append(bytes.Clone(first), huge...))
		cl.AwaitClose(t)
	}
	cl := srv.Dial(t, user("after"))
	if r := cl.Request(t, "test.echo.echo", nil); r.Status != 200 {
		t.Fatalf("after the huge header: %+v", r)
	}
}
