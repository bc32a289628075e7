package bench

import (
	"bufio"
	"encoding/json"
	"math"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func TestHistogram(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Fatal("empty histogram has a median")
	}
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	h.record(-time.Second) // a clock step counts as zero
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(tt.q)
		if math.Abs(float64(got-tt.want))/float64(tt.want) > 1.0/64 {
			t.Errorf("q%.2f = %v, want %v within 1/64", tt.q, got, tt.want)
		}
	}
	if h.maximum() != time.Second || h.count() != 1001 {
		t.Errorf("max %v count %d", h.maximum(), h.count())
	}
	for _, v := range []uint64{0, 1, 63, 64, 127, 128, 1000, 1 << 40, math.MaxInt64} {
		if m := bucketMid(bucketOf(v)); v >= 64 && math.Abs(float64(m)-float64(v))/float64(v) > 1.0/64 {
			t.Errorf("value %d lands in a bucket around %d", v, m)
		}
	}
}

func TestIntAfter(t *testing.T) {
	msg := []byte(`{"status":200,"info":"","param":{"seq":17,"ts":-1700000000000000000},"event":"bench.fanout"}`)
	for key, want := range map[string]int64{`"status":`: 200, `"seq":`: 17, `"ts":`: -1700000000000000000} {
		if got, ok := intAfter(msg, key); !ok || got != want {
			t.Errorf("%s = %d, %v; want %d", key, got, ok, want)
		}
	}
	if _, ok := intAfter(msg, `"info":`); ok {
		t.Error("a string parsed as an integer")
	}
	if statusOf([]byte(`{"status": 429}`)) != 429 || statusOf([]byte(`{}`)) != 0 {
		t.Error("statusOf")
	}
}

func TestProcSample(t *testing.T) {
	u, err := procs{os.Getpid(), os.Getpid()}.sample()
	if err != nil {
		t.Fatal(err)
	}
	one, _ := procs{os.Getpid()}.sample()
	if u.rssKiB <= 0 || u.rssKiB < one.rssKiB || u.ticks < 0 {
		t.Fatalf("sample %+v, one %+v", u, one)
	}
	if _, err := (procs{1 << 30}).sample(); err == nil {
		t.Fatal("no error for a pid that does not exist")
	}
}

func TestLoopbackURL(t *testing.T) {
	for raw, want := range map[string]string{
		"ws://127.0.0.1:9501/ws":   "ws://127.0.0.1:9501/ws",
		"ws://localhost:9501/ws?x": "ws://127.0.0.1:9501/ws?x",
		"ws://127.9.9.9/":          "ws://127.9.9.9/",
		"ws://[::1]:9501/ws":       "ws://[::1]:9501/ws",
	} {
		u, _, err := loopbackURL(raw, "ws")
		if err != nil || u.String() != want {
			t.Errorf("%s: %v, %v; want %s", raw, u, err, want)
		}
	}
	for _, raw := range []string{"ws://10.0.0.1/ws", "ws://example.com/ws", "ws://0.0.0.0:9501/ws", "http://127.0.0.1/", "ws://[::ffff:10.0.0.1]/"} {
		if _, _, err := loopbackURL(raw, "ws"); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
}

func TestResultJSONAndMedian(t *testing.T) {
	mk := func(run string, v float64) result {
		r := result{scenario: "rpc", run: run, params: []param{{"conns", 2}}}
		r.add("b_first", v)
		r.add("a_second", math.NaN())
		return r
	}
	runs := []result{mk("1", 3), mk("2", 1.23456), mk("3", 2)}
	b, err := json.Marshal(runs[1])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"scenario":"rpc","run":2,"params":{"conns":2},"figures":{"b_first":1.235,"a_second":null}}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	m := median(runs)
	if v, _ := m.value("b_first"); v != 2 || m.run != "median" {
		t.Errorf("median %+v", m)
	}
	var sb strings.Builder
	printTable(&sb, runs)
	if !strings.Contains(sb.String(), "median") || !strings.Contains(sb.String(), "b first") {
		t.Errorf("table:\n%s", sb.String())
	}
}

// TestConnNext feeds a connection fragmented and control frames as a server
// may send them.
func TestConnNext(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	defer srv.Close()
	c := &conn{nc: cli, br: bufio.NewReaderSize(cli, 64)}
	go func() {
		ws.WriteFrame(srv, ws.Frame{Header: ws.Header{OpCode: ws.OpText, Length: 3}, Payload: []byte("hel")})
		ws.WriteFrame(srv, ws.NewPingFrame([]byte("p")))
		ws.WriteFrame(srv, ws.Frame{Header: ws.Header{OpCode: ws.OpContinuation, Length: 2}, Payload: []byte("lo")})
		ws.WriteFrame(srv, ws.Frame{Header: ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 1}, Payload: []byte("!")})
		ws.WriteFrame(srv, ws.NewTextFrame([]byte(strings.Repeat("x", 300))))
		ws.WriteFrame(srv, ws.NewCloseFrame(ws.NewCloseFrameBody(4000, "idle timeout")))
	}()
	pongs := make(chan string, 2)
	go func() { // the server's reader: the client's pong and close echo
		r := wsutil.NewServerSideReader(srv)
		for {
			h, err := r.NextFrame()
			if err != nil {
				return
			}
			b := make([]byte, h.Length)
			r.Read(b)
			if h.OpCode == ws.OpPong {
				pongs <- string(b)
			}
		}
	}()
	if msg, err := c.next(); err != nil || string(msg) != "hello!" {
		t.Fatalf("next = %q, %v; want the reassembled message", msg, err)
	}
	if p := <-pongs; p != "p" {
		t.Errorf("pong %q", p)
	}
	if msg, err := c.next(); err != nil || len(msg) != 300 {
		t.Fatalf("next = %d bytes, %v", len(msg), err)
	}
	_, err := c.next()
	if ce, ok := err.(*closeError); !ok || ce.code != 4000 {
		t.Fatalf("err = %v, want the close frame", err)
	}
}
