package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/go-sql-driver/mysql"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/db/dbtest"
	"msgo/library/encrypt"
)

// The connections of the load tests: members in rooms of roomSize (the
// first pushRooms get pushes through the manager), and requesters that run
// closed-loop requests.
const (
	roomSize   = 100
	pushRooms  = 3
	requesters = 200
)

// TestReloadUnderLoadMemory: 2,000 connections in rooms, 200 of them in a
// request loop, three rooms pushed to through the manager, ten reloads in
// a row with the memory store: no client is closed, every push arrives once
// and in order, every request is answered once, and the rooms, the store's
// contents and the close controllers cross over.
func TestReloadUnderLoadMemory(t *testing.T) {
	in := newInstance(t, noRateLimit)
	reloadUnderLoad(t, in, 2000, 10)
}

// TestReloadUnderLoadRedisMySQL is the same with Redis and MySQL.
func TestReloadUnderLoadRedisMySQL(t *testing.T) {
	env, _ := clusterEnv(t)
	gdb := dbtest.MySQL(t)
	dsn := os.Getenv("MSGO_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = dbtest.DefaultMySQLDSN
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = gdb.Migrator().CurrentDatabase()
	in := newInstance(t, append(env, noRateLimit, "MSGO_DB_DRIVER=mysql", "MSGO_DB_DSN="+cfg.FormatDSN())...)
	reloadUnderLoad(t, in, 2000, 10)
}

// noRateLimit lifts the per-connection rate limit (100 messages a second by
// default): a requester in a closed loop passes it on an idle machine, and
// the load tests are about reloads.
const noRateLimit = "MSGO_OUTSIDE_RATE_LIMIT=100000"

var pauseRE = regexp.MustCompile(`(\d+) connections handed over, pause ([0-9.]+) ms`)

func reloadUnderLoad(t *testing.T, in *instance, n, reloads int) {
	in.must("start", "-d")
	in.logOnFailure()
	members := dialMany(t, in, n-requesters, func(i int) framework.Identity {
		return framework.Identity{ID: "m" + strconv.Itoa(i), Type: encrypt.TypeWechatUser, Code: "r" + strconv.Itoa(i/roomSize)}
	})
	for _, c := range members {
		if r := c.Request(t, "live.user.join", nil); r.Status != 200 {
			t.Fatalf("join: %+v", r)
		}
	}
	loopers := dialMany(t, in, requesters, func(i int) framework.Identity {
		return framework.Identity{ID: "q" + strconv.Itoa(i), Type: encrypt.TypeWall}
	})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var answered atomic.Int64
	for _, c := range loopers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := c.Call(t, "index.index.whoami", nil)
				r, err := c.Next(30*time.Second, msgotest.IsReplyTo(id))
				if err != nil || r.Status != 200 {
					t.Errorf("request %s: %+v %v", id, r, err)
					return
				}
				answered.Add(1)
			}
		})
	}
	pushed := 0
	pusherDone := make(chan struct{})
	go func() {
		defer close(pusherDone)
		hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for ; ; pushed++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			for r := range pushRooms {
				body := fmt.Sprintf(`{"room":"r%d","event":"test.seq","param":{"n":%d}}`, r, pushed)
				resp, err := hc.Post("http://"+in.mgr+"/api/send/room", "application/json", strings.NewReader(body))
				if err != nil {
					t.Errorf("push %d: %v", pushed, err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("push %d: %s", pushed, resp.Status)
					return
				}
			}
		}
	}()

	time.Sleep(500 * time.Millisecond)
	for i := range reloads {
		oldPid := in.pid()
		out := in.must("reload")
		m := pauseRE.FindStringSubmatch(out)
		if m == nil || m[1] != strconv.Itoa(n) || in.pid() == oldPid {
			t.Fatalf("reload %d: %s", i+1, out)
		}
		t.Logf("reload %d: %s", i+1, strings.TrimSpace(out))
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	<-pusherDone
	if t.Failed() {
		return
	}
	t.Logf("%d requests answered, %d pushes to each of %d rooms", answered.Load(), pushed, pushRooms)

	// Every push once and in order, to every member of the pushed rooms.
	for i, c := range members[:pushRooms*roomSize] {
		var got []int
		deadline := time.Now().Add(20 * time.Second)
		for len(got) < pushed && time.Now().Before(deadline) {
			r, err := c.Next(time.Until(deadline), msgotest.IsPush("test.seq"))
			if err != nil {
				break
			}
			var p struct{ N int }
			r.Decode(t, &p)
			got = append(got, p.N)
		}
		for k, v := range got {
			if v != k {
				t.Fatalf("member %d: push %d is n=%d (got %v)", i, k, v, got)
			}
		}
		if len(got) != pushed {
			t.Fatalf("member %d got %d of %d pushes", i, len(got), pushed)
		}
		if _, err := c.Next(0, msgotest.IsPush("test.seq")); err == nil {
			t.Fatalf("member %d got a push twice", i)
		}
	}
	// No request answered twice, no client closed.
	for i, c := range loopers {
		for _, r := range c.Frames() {
			t.Fatalf("requester %d: a frame nobody waits for: %+v", i, r)
		}
	}
	all := append(members, loopers...)
	for i, c := range all {
		if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
			t.Fatalf("client %d after the reloads: %+v", i, r)
		}
	}
	// Rooms and close controllers crossed: members who leave now are
	// announced to their room's walls once each (a wall joining after the
	// reloads watches).
	room := members[pushRooms*roomSize : (pushRooms+1)*roomSize]
	wall := dialMany(t, in, 1, func(int) framework.Identity {
		return framework.Identity{ID: "watcher", Type: encrypt.TypeWall, Code: "r" + strconv.Itoa(pushRooms)}
	})[0]
	if r := wall.Request(t, "live.user.join", nil); r.Status != 200 {
		t.Fatalf("wall join: %+v", r)
	}
	wall.Frames()
	for _, c := range room[:3] {
		c.Close()
	}
	left := map[string]int{}
	for len(left) < 3 {
		r := wall.AwaitPush(t, "live.user.leave")
		var p struct{ ID string }
		r.Decode(t, &p)
		left[p.ID]++
	}
	time.Sleep(500 * time.Millisecond) // a second announcement would be here by now
	msgotest.NoPush(t, 0, "live.user.leave", "wall", wall)
	for id, k := range left {
		if k != 1 {
			t.Fatalf("%s announced leaving %d times", id, k)
		}
	}
}

// dialMany opens n connections, several at a time, with identity id(i).
func dialMany(t *testing.T, in *instance, n int, id func(int) framework.Identity) []*msgotest.Client {
	out := make([]*msgotest.Client, n)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				c, err := in.dial(id(i))
				if err != nil {
					t.Errorf("dial %d: %v", i, err)
					return
				}
				out[i] = c
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Cleanup(func() {
		for _, c := range out {
			c.Close()
		}
	})
	return out
}

// logOnFailure prints the daemon's log if the test fails.
func (in *instance) logOnFailure() {
	in.t.Cleanup(func() {
		if in.t.Failed() {
			b, _ := os.ReadFile(filepath.Join(in.dir, "runtime", "msgo.out"))
			in.t.Logf("msgo.out:\n%s", b)
		}
	})
}

// faultBinary builds msgo with handoffFault set, once per fault.
func faultBinary(t *testing.T, fault string) string {
	t.Helper()
	path := binary + "-" + fault
	if _, err := os.Stat(path); err == nil {
		return path
	}
	out, err := exec.Command("go", "build", "-ldflags", "-X main.handoffFault="+fault, "-o", path, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build msgo with fault %s: %v\n%s", fault, err, out)
	}
	return path
}

// installBinary puts the binary at path where the instance's reload finds it.
func (in *instance) installBinary(path string) {
	in.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		in.t.Fatal(err)
	}
	tmp := in.bin + ".new"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		in.t.Fatal(err)
	}
	if err := os.Rename(tmp, in.bin); err != nil {
		in.t.Fatal(err)
	}
}

// TestReloadFailureKeepsEveryClient: a new binary that crashes after it
// adopted the connections, or an old one whose state the new one cannot
// read, fails the reload with exit status 1 and the reason, and the old
// process goes on serving every client, rooms and all.
func TestReloadFailureKeepsEveryClient(t *testing.T) {
	for _, tc := range []struct {
		name, old, next, says string
	}{
		{"new process crashes after adopting", "", "crash", "exit status 3"},
		{"state format newer than the new binary", "newer-state", "", "this binary reads " + strconv.Itoa(handoffVersion)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstance(t)
			if tc.old != "" {
				in.installBinary(faultBinary(t, tc.old))
			}
			in.must("start", "-d")
			in.logOnFailure()
			oldPid := in.pid()
			cs := dialMany(t, in, 50, func(i int) framework.Identity {
				return framework.Identity{ID: "f" + strconv.Itoa(i), Type: encrypt.TypeWechatUser, Code: "room"}
			})
			for _, c := range cs {
				if r := c.Request(t, "live.user.join", nil); r.Status != 200 {
					t.Fatalf("join: %+v", r)
				}
			}
			next := binary
			if tc.next != "" {
				next = faultBinary(t, tc.next)
			}
			in.installBinary(next)
			out, err := in.cmd("reload")
			if err == nil || !strings.Contains(out, "keeps serving") || !strings.Contains(out, tc.says) {
				t.Fatalf("reload: err=%v out=%s", err, out)
			}
			t.Logf("reload said: %s", strings.TrimSpace(out))
			if in.pid() != oldPid {
				t.Fatalf("pid file changed after a failed reload")
			}
			resp, err := http.Post("http://"+in.mgr+"/api/send/room", "application/json",
				strings.NewReader(`{"room":"room","event":"test.after","param":{}}`))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("push after the failed reload: %v %v", resp, err)
			}
			resp.Body.Close()
			for i, c := range cs {
				c.AwaitPush(t, "test.after")
				if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
					t.Fatalf("client %d after the failed reload: %+v", i, r)
				}
			}
			if tc.old != "" {
				return
			}
			// And a reload onto a good binary still works afterwards.
			in.installBinary(binary)
			if out := in.must("reload"); !strings.Contains(out, "50 connections handed over") {
				t.Fatalf("reload after the failure: %s", out)
			}
			for i, c := range cs {
				if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
					t.Fatalf("client %d after the good reload: %+v", i, r)
				}
			}
		})
	}
}

// TestReloadCarriesPartialFramesQueuedOutputAndStreams: half a frame sent
// before the reload is completed after it and answered; output queued
// behind a client that does not read arrives whole and in order once it
// reads; a bot answer streaming when the reload begins ends before the
// move, whole.
func TestReloadCarriesPartialFramesQueuedOutputAndStreams(t *testing.T) {
	// Room for more output than the kernel's socket buffers hold (4 MiB).
	in := newInstance(t, "MSGO_OUTSIDE_WRITE_QUEUE_BYTES=33554432")
	in.must("start", "-d")
	in.logOnFailure()

	// Half a frame.
	half := in.rawDial(t, framework.Identity{ID: "half", Type: encrypt.TypeWechatUser}, 0)
	frame := maskedText(t, `{"method":"index.index.whoami","id":"half"}`)
	if _, err := half.Write(frame[:len(frame)/2]); err != nil {
		t.Fatal(err)
	}

	// A client that does not read, with a small receive buffer, and pushes
	// to it until output queues behind it.
	slow := in.rawDial(t, framework.Identity{ID: "slow", Type: encrypt.TypeWechatUser}, 4096)
	pad := strings.Repeat("x", 60000)
	const pushes = 150
	for k := range pushes {
		body := fmt.Sprintf(`{"id":"slow","type":"wechatUser","event":"test.big","param":{"n":%d,"pad":"%s"}}`, k, pad)
		resp, err := http.Post("http://"+in.mgr+"/api/send/user", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("push %d: %v %v", k, resp, err)
		}
		resp.Body.Close()
	}

	// A bot answer in flight.
	asker, err := in.dial(framework.Identity{ID: "asker", Type: encrypt.TypeWechatUser})
	if err != nil {
		t.Fatal(err)
	}
	defer asker.Close()
	id := asker.Call(t, "kefu.bot.ask", map[string]any{"message": "hello", "session_id": "s1"})

	time.Sleep(200 * time.Millisecond) // the old process has read the half frame
	out := in.must("reload")
	t.Logf("%s", strings.TrimSpace(out))
	log, _ := os.ReadFile(filepath.Join(in.dir, "runtime", "msgo.out"))
	m := regexp.MustCompile(`queued_output_bytes=(\d+) unhandled_input_bytes=(\d+)`).FindSubmatch(log)
	if m == nil || string(m[1]) == "0" || string(m[2]) == "0" {
		t.Fatalf("the handover carried no queued output or no unhandled input: %q", m)
	}
	t.Logf("carried %s bytes of queued output and %s of unhandled input", m[1], m[2])

	if _, err := half.Write(frame[len(frame)/2:]); err != nil {
		t.Fatal(err)
	}
	var r msgotest.Reply
	readJSON(t, half, &r)
	if r.Status != 200 || string(r.ID) != `"half"` {
		t.Fatalf("reply to the frame completed after the reload: %+v", r)
	}

	for k := range pushes {
		var p struct {
			Event string
			Param struct {
				N   int
				Pad string
			}
		}
		readJSON(t, slow, &p)
		if p.Event != "test.big" || p.Param.N != k || p.Param.Pad != pad {
			t.Fatalf("slow client's push %d: event %q n=%d, pad of %d bytes", k, p.Event, p.Param.N, len(p.Param.Pad))
		}
	}

	var text strings.Builder
	for {
		r := asker.AwaitID(t, id)
		var c struct {
			Message  string
			Complete bool
		}
		r.Decode(t, &c)
		if r.Status != 200 {
			t.Fatalf("bot answer: %+v", r)
		}
		text.WriteString(c.Message)
		if c.Complete {
			break
		}
	}
	if text.Len() == 0 {
		t.Fatal("the bot's answer was empty")
	}
	if r := asker.Request(t, "index.index.whoami", nil); r.Status != 200 {
		t.Fatalf("asker after the reload: %+v", r)
	}
}

// rawDial opens a WebSocket connection the test reads itself; rcvbuf, when
// set, is the socket's receive buffer.
func (in *instance) rawDial(t *testing.T, id framework.Identity, rcvbuf int) net.Conn {
	tok, err := encrypt.New(in.secret(), time.Hour).Mint(encrypt.Claims{ID: id.ID, Type: id.Type})
	if err != nil {
		t.Fatal(err)
	}
	nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		if rcvbuf > 0 {
			rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		}
		return nil
	}}
	d := ws.Dialer{NetDial: nd.DialContext}
	conn, br, _, err := d.Dial(t.Context(), "ws://"+in.ws+"/ws?auth="+tok)
	if err != nil {
		t.Fatal(err)
	}
	if br != nil {
		t.Fatal("the server spoke before the client")
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func maskedText(t *testing.T, s string) []byte {
	f := ws.MaskFrameInPlace(ws.NewTextFrame([]byte(s)))
	var b bytes.Buffer
	if err := ws.WriteFrame(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readJSON reads the next server message from c into v.
func readJSON(t *testing.T, c net.Conn, v any) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(msgotest.DefaultTimeout))
	b, err := wsutil.ReadServerText(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// TestReloadKeepsCountersAndAppendsTheLog: in the foreground, with a log
// file, two reloads: the counters, the manager's included, go on from the
// old process's values, and the log holds every process's lines, none
// overwritten.
func TestReloadKeepsCountersAndAppendsTheLog(t *testing.T) {
	in := newInstance(t, "MSGO_LOG_FILE=msgo.log")
	c := exec.Command(in.bin, "start")
	c.Env, c.Dir = in.env, in.dir
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(in.dir, "runtime", "msgo.pid")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("msgo did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cl, err := in.dial(framework.Identity{ID: "counted", Type: encrypt.TypeWechatUser})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const requests = 25
	for range requests {
		cl.Request(t, "index.index.whoami", nil)
	}
	before := counter(t, in, "msgo_frames_in_total")
	if before < requests {
		t.Fatalf("msgo_frames_in_total = %v before the reload", before)
	}
	// The manager's own counters go on too.
	const calls = `msgo_manager_requests_total{call="/api/online/count",code="200"}`
	onlineCount := func() {
		resp, err := http.Get("http://" + in.mgr + "/api/online/count")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for range 3 {
		onlineCount()
	}
	if got := counter(t, in, calls); got != 3 {
		t.Fatalf("%s = %v before the reload, want 3", calls, got)
	}
	pids := []string{in.pid()}
	for range 2 {
		in.must("reload")
		pids = append(pids, in.pid())
	}
	cl.Request(t, "index.index.whoami", nil)
	if after := counter(t, in, "msgo_frames_in_total"); after != before+1 {
		t.Fatalf("msgo_frames_in_total = %v after two reloads and one more request, want %v", after, before+1)
	}
	onlineCount()
	if got := counter(t, in, calls); got != 4 {
		t.Fatalf("%s = %v after two reloads and one more call, want 4", calls, got)
	}
	if pause := counter(t, in, "msgo_reload_pause_seconds"); pause <= 0 {
		t.Fatalf("msgo_reload_pause_seconds = %v", pause)
	}

	b, err := os.ReadFile(filepath.Join(in.dir, "runtime", "msgo.log"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if !strings.HasPrefix(line, "time=") {
			t.Fatalf("a broken line in the log: %q", line)
		}
	}
	for i, pid := range pids {
		if !strings.Contains(string(b), `msg="msgo started"`) || !strings.Contains(string(b), "pid="+pid+" ") {
			t.Fatalf("the log has no start line of process %d (pid %s):\n%s", i, pid, b)
		}
	}
	if got := strings.Count(string(b), `msg="handed over"`); got != 2 {
		t.Fatalf("the log has %d handover lines, want 2:\n%s", got, b)
	}
}
