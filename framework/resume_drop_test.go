package framework_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// The drop scenario: clients in one room receive a push stream and send
// requests; every client's TCP connection is cut at once, without a close
// frame, and the clients come back after a pause (to another node, in a
// cluster) and resume. Every push must arrive once and in order, every
// request be applied once, and no leave be pushed; the connection keeps its
// address (id), which a close key stored and a send to it still find.

const dropLeave = "drop.leave"

var dropRoom = framework.InternalGroup("test.drop")

// dropModule: drop.join joins the room and registers a close controller
// that pushes drop.leave to it, as the live module does; drop.apply counts
// the caller's requests and the addresses they came from.
type dropModule struct {
	mu      sync.Mutex
	applied map[string]map[int]int // user -> request k -> times applied
	addrs   map[string]map[framework.Addr]bool
}

func dropKey(user string) string { return "drop:" + user }

func (d *dropModule) register(r *framework.Router) {
	r.Handle("drop.room.join", func(c *framework.Context) error {
		app, id := c.App(), c.Client().ID()
		if err := app.AddCloseController(id, "Drop.Room"); err != nil {
			return err
		}
		if err := app.AddCloseKey(c.Context(), id, dropKey(c.Client().Identity().ID)); err != nil {
			return err
		}
		return app.JoinGroup(c.Context(), id, dropRoom)
	})
	r.Handle("drop.req.apply", func(c *framework.Context) error {
		var p struct{ K int }
		if err := c.Bind(&p); err != nil {
			return err
		}
		d.mu.Lock()
		u := c.Client().Identity().ID
		if d.applied[u] == nil {
			d.applied[u] = map[int]int{}
		}
		d.applied[u][p.K]++
		if d.addrs[u] == nil {
			d.addrs[u] = map[framework.Addr]bool{}
		}
		addr, _ := c.App().Addr(c.Client().ID())
		d.addrs[u][addr] = true
		d.mu.Unlock()
		return c.Success("", nil)
	})
	r.OnClose("Drop.Room", func(ctx context.Context, app *framework.App, cl framework.Client) {
		f, _ := framework.Push(dropLeave, map[string]string{"id": cl.Identity().ID})
		app.SendToGroup(ctx, dropRoom, f)
	})
}

// dropClient is a resumable client speaking the session protocol itself.
type dropClient struct {
	user    string
	session string

	mu       sync.Mutex
	conn     net.Conn
	lastN    uint64
	sent     uint64 // messages sent since the open
	log      []dropSent
	nextK    int
	replied  map[int]int // request k -> replies seen
	ticks    []int
	leaves   int
	directs  int
	joined   bool
	resumed  chan resumeAnswerFrame
	problems []string
}

type dropSent struct {
	seq  uint64
	k    int
	text []byte
}

type resumeAnswerFrame struct {
	Resumed  bool   `json:"resumed"`
	Received uint64 `json:"received"`
}

type dropFrame struct {
	N     uint64          `json:"n"`
	Event string          `json:"event"`
	ID    json.RawMessage `json:"id"`
	Param json.RawMessage `json:"param"`
}

func (dc *dropClient) dial(url, token string) (net.Conn, *bufio.Reader, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, url+"?auth="+token)
	if err != nil {
		return nil, nil, err
	}
	if br == nil {
		br = bufio.NewReader(conn)
	}
	return conn, br, nil
}

// send writes a message; after the open it is logged until known read.
func (dc *dropClient) sendLocked(text []byte, k int, counted bool) error {
	if counted {
		dc.sent++
		dc.log = append(dc.log, dropSent{seq: dc.sent, k: k, text: text})
	}
	return wsutil.WriteClientText(dc.conn, text)
}

// read reads frames until the connection ends.
func (dc *dropClient) read(br *bufio.Reader, conn net.Conn) {
	r := wsutil.NewClientSideReader(br)
	for {
		h, err := r.NextFrame()
		if err != nil {
			return
		}
		body := make([]byte, h.Length)
		if _, err := readFull(r, body); err != nil {
			return
		}
		if h.OpCode != ws.OpText {
			continue
		}
		var f dropFrame
		json.Unmarshal(body, &f)
		dc.frame(f, conn)
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

func (dc *dropClient) frame(f dropFrame, conn net.Conn) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if f.N != 0 {
		if f.N != dc.lastN+1 {
			dc.problems = append(dc.problems, fmt.Sprintf("frame n=%d after %d", f.N, dc.lastN))
		}
		dc.lastN = f.N
	}
	switch {
	case f.Event == "sys.session.open":
		var p struct{ Session string }
		json.Unmarshal(f.Param, &p)
		dc.session = p.Session
		dc.resumed <- resumeAnswerFrame{Resumed: true}
	case f.Event == "sys.session.resume":
		var a resumeAnswerFrame
		json.Unmarshal(f.Param, &a)
		dc.resumed <- a
	case f.Event == "drop.tick":
		var p struct{ I int }
		json.Unmarshal(f.Param, &p)
		dc.ticks = append(dc.ticks, p.I)
	case f.Event == dropLeave:
		dc.leaves++
	case f.Event == "drop.direct":
		dc.directs++
	case f.Event == "drop.room.join":
		dc.joined = true
	case f.Event == "drop.req.apply":
		k, _ := strconv.Atoi(string(f.ID))
		dc.replied[k]++
		for i, s := range dc.log {
			if s.k == k {
				dc.log = dc.log[i+1:] // read, and everything before it
				break
			}
		}
	}
}

// start connects, opens a session and joins the room.
func (dc *dropClient) start(url, token string) error {
	conn, br, err := dc.dial(url, token)
	if err != nil {
		return err
	}
	dc.mu.Lock()
	dc.conn = conn
	err = dc.sendLocked([]byte(`{"method":"sys.session.open","id":"open"}`), 0, false)
	dc.mu.Unlock()
	if err != nil {
		return err
	}
	go dc.read(br, conn)
	select {
	case <-dc.resumed:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: no answer to the open", dc.user)
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return dc.sendLocked([]byte(`{"method":"drop.room.join","id":"join"}`), 0, true)
}

// apply sends the next request.
func (dc *dropClient) apply() {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if dc.conn == nil {
		return // reconnecting: requests wait (none are made here meanwhile)
	}
	dc.nextK++
	text := fmt.Appendf(nil, `{"method":"drop.req.apply","id":%d,"k":%d}`, dc.nextK, dc.nextK)
	dc.sendLocked(text, dc.nextK, true)
}

// cut drops the TCP connection: no close frame.
func (dc *dropClient) cut() {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.conn.Close()
	dc.conn = nil
}

// resume connects to url and resumes; it returns the time from dialing to
// the resume's answer.
func (dc *dropClient) resume(url, token string) (time.Duration, error) {
	start := time.Now()
	conn, br, err := dc.dial(url, token)
	if err != nil {
		return 0, err
	}
	// Nothing else goes out before the answer: what the server reads after
	// the resume is not in its count.
	dc.mu.Lock()
	err = wsutil.WriteClientText(conn, fmt.Appendf(nil, `{"method":"sys.session.resume","id":"resume","session":%q,"n":%d}`, dc.session, dc.lastN))
	dc.mu.Unlock()
	if err != nil {
		return 0, err
	}
	go dc.read(br, conn)
	var a resumeAnswerFrame
	select {
	case a = <-dc.resumed:
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("%s: no answer to the resume", dc.user)
	}
	took := time.Since(start)
	if !a.Resumed {
		return took, fmt.Errorf("%s: not resumed: %+v", dc.user, a)
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.conn = conn
	resend := slices.Clone(dc.log)
	dc.log, dc.sent = nil, a.Received
	for _, s := range resend {
		if s.seq > a.Received {
			dc.sendLocked(s.text, s.k, true)
		}
	}
	return took, nil
}

// dropResult is what a run measured.
type dropResult struct {
	clients, ticks, requests int
	resumeP50, resumeP99     time.Duration
	resumeMax                time.Duration
}

// runDrop runs the scenario: clients (user ids drop-<i>), pushesPerSec to
// the room from nodes[0], requestsPerSec from each client; the cut comes
// after warm, the clients come back after pause. On one node that is all;
// in a cluster the clients are on nodes[1] and nodes[2] and each comes back
// on the other, so the pushes come from a node that is neither.
func runDrop(t testing.TB, nodes []*msgotest.Server, mod *dropModule, clients, pushesPerSec, requestsPerSec int, warm, pause, after time.Duration) dropResult {
	t.Helper()
	cs := make([]*dropClient, clients)
	tokens := make([]string, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range cs {
		u := fmt.Sprintf("drop-%d", i)
		cs[i] = &dropClient{user: u, replied: map[int]int{}, resumed: make(chan resumeAnswerFrame, 1)}
		tokens[i] = nodes[0].Token(t, user(u))
		wg.Go(func() {
			if err := cs[i].start(dropNode(nodes, i, 0).URL, tokens[i]); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	// Every client is in the room before the first push.
	eventually(t, "every client joined", func() bool {
		for _, dc := range cs {
			dc.mu.Lock()
			joined := dc.joined
			dc.mu.Unlock()
			if !joined {
				return false
			}
		}
		return true
	})
	stop := make(chan struct{})
	var pushed atomic.Int64
	var bg sync.WaitGroup
	bg.Go(func() {
		tk := time.NewTicker(time.Second / time.Duration(pushesPerSec))
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			// One publisher: pushes from several nodes have no order between them.
			f, _ := framework.Push("drop.tick", map[string]int{"i": i})
			nodes[0].App().SendToGroup(context.Background(), dropRoom, f)
			pushed.Add(1)
		}
	})
	for _, dc := range cs {
		bg.Go(func() {
			tk := time.NewTicker(time.Second / time.Duration(requestsPerSec))
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					dc.apply()
				}
			}
		})
	}
	time.Sleep(warm)
	for _, dc := range cs {
		dc.cut()
	}
	time.Sleep(pause)
	took := make([]time.Duration, clients)
	for i, dc := range cs {
		wg.Go(func() {
			d, err := dc.resume(dropNode(nodes, i, 1).URL, tokens[i])
			if err != nil {
				errs <- err
			}
			took[i] = d
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	time.Sleep(after)
	close(stop)
	bg.Wait()
	total := int(pushed.Load())
	requests := 0
	defer func() {
		if t.Failed() {
			logged := 0
			for _, dc := range cs {
				dc.mu.Lock()
				if len(dc.ticks) != total || len(dc.replied) != dc.nextK || len(dc.problems) > 0 || logged == 0 {
					t.Logf("%s: %d ticks of %d, first missing %d; %d replies of %d; log %d; %v", dc.user, len(dc.ticks), total, firstMissing(dc.ticks), len(dc.replied), dc.nextK, len(dc.log), head(dc.problems))
					logged++
				}
				dc.mu.Unlock()
				if logged == 4 {
					break
				}
			}
		}
	}()
	eventually(t, "every push and reply arrived", func() bool {
		requests = 0
		for _, dc := range cs {
			dc.mu.Lock()
			done := len(dc.ticks) >= total && len(dc.replied) == dc.nextK
			requests += dc.nextK
			dc.mu.Unlock()
			if !done {
				return false
			}
		}
		return true
	})
	checkDropAddrs(t, nodes[0].App(), mod, cs)
	mod.mu.Lock()
	defer mod.mu.Unlock()
	for _, dc := range cs {
		dc.mu.Lock()
		if !slices.Equal(dc.ticks, seq(total)) {
			i := 0
			for i < len(dc.ticks) && dc.ticks[i] == i {
				i++
			}
			t.Errorf("%s got %d pushes, %v from the %dth, want 0..%d once each in order", dc.user, len(dc.ticks), dc.ticks[max(i-2, 0):min(i+5, len(dc.ticks))], i, total-1)
		}
		for k := 1; k <= dc.nextK; k++ {
			if mod.applied[dc.user][k] != 1 || dc.replied[k] != 1 {
				t.Errorf("%s request %d applied %d times, answered %d times", dc.user, k, mod.applied[dc.user][k], dc.replied[k])
			}
		}
		if dc.leaves != 0 || len(dc.problems) > 0 {
			t.Errorf("%s: %d leave pushes; %v", dc.user, dc.leaves, head(dc.problems))
		}
		dc.mu.Unlock()
	}
	slices.Sort(took)
	return dropResult{clients: clients, ticks: total, requests: requests,
		resumeP50: took[len(took)/2], resumeP99: took[len(took)*99/100], resumeMax: took[len(took)-1]}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func head[T any](s []T) []T { return s[:min(len(s), 5)] }

func dropNodes(t testing.TB, n int) ([]*msgotest.Server, *dropModule) {
	mod := &dropModule{applied: map[string]map[int]int{}, addrs: map[string]map[framework.Addr]bool{}}
	opts := msgotest.Options{
		Modules: []msgotest.Module{mod.register},
		Secret:  "drop-secret",
		Config:  framework.Config{ResumeWindow: time.Minute, RateLimit: -1},
	}
	if n == 1 {
		return []*msgotest.Server{msgotest.Start(t, opts)}, mod
	}
	var nodes []*msgotest.Server
	for i, st := range redisStores(t, n) {
		o := opts
		o.Store, o.NodeID = st, fmt.Sprintf("d%d", i+1)
		nodes = append(nodes, msgotest.Start(t, o))
	}
	return nodes, mod
}

// The drop scenario at CI size on one node.
func TestSessionDropOneNode(t *testing.T) {
	nodes, mod := dropNodes(t, 1)
	runDrop(t, nodes, mod, 40, 50, 5, time.Second, time.Second, time.Second)
}

// The drop scenario at CI size on three nodes on Redis: every client comes
// back to another node.
func TestSessionDropThreeNodes(t *testing.T) {
	nodes, mod := dropNodes(t, 3)
	runDrop(t, nodes, mod, 30, 50, 5, time.Second, time.Second, time.Second)
}

// BenchmarkSessionDrop runs the scenario at full size once: 1,000 clients
// (MSGO_DROP_CLIENTS), 50 pushes/s to their room, 5 requests/s each, cut
// after 5 s, back after 3 s, 5 s more; MSGO_DROP_NODES=3 runs it on three
// nodes on Redis. It reports the resume times.
func BenchmarkSessionDrop(b *testing.B) {
	clients, nodesN := 1000, 1
	if v, err := strconv.Atoi(os.Getenv("MSGO_DROP_CLIENTS")); err == nil {
		clients = v
	}
	if v, err := strconv.Atoi(os.Getenv("MSGO_DROP_NODES")); err == nil {
		nodesN = v
	}
	for b.Loop() {
		nodes, mod := dropNodes(b, nodesN)
		r := runDrop(b, nodes, mod, clients, 50, 5, 5*time.Second, 3*time.Second, 5*time.Second)
		b.ReportMetric(float64(r.clients), "clients")
		b.ReportMetric(float64(r.ticks), "pushes/client")
		b.ReportMetric(float64(r.requests), "requests")
		b.ReportMetric(float64(r.resumeP50.Milliseconds()), "resume-p50-ms")
		b.ReportMetric(float64(r.resumeP99.Milliseconds()), "resume-p99-ms")
		b.ReportMetric(float64(r.resumeMax.Milliseconds()), "resume-max-ms")
	}
}

// firstMissing is the first i missing from ticks, which should be 0, 1, 2, ...
func firstMissing(ticks []int) int {
	for i, v := range ticks {
		if v != i {
			return i
		}
	}
	return len(ticks)
}

// dropNode is where client i is before the cut (move 0) and after (1).
func dropNode(nodes []*msgotest.Server, i, move int) *msgotest.Server {
	if len(nodes) == 1 {
		return nodes[0]
	}
	return nodes[1+(i+move)%2]
}

// checkDropAddrs checks that every client's requests came from one address
// before and after its move, that its close key still names that address,
// and that a send from the publishing node to it arrives.
func checkDropAddrs(t testing.TB, app *framework.App, mod *dropModule, cs []*dropClient) {
	t.Helper()
	ctx := context.Background()
	for _, dc := range cs {
		mod.mu.Lock()
		addrs := slices.Collect(maps.Keys(mod.addrs[dc.user]))
		mod.mu.Unlock()
		if len(addrs) != 1 {
			t.Fatalf("%s: requests came from %v, want one address", dc.user, addrs)
		}
		members, err := app.CloseKeyMembers(ctx, dropKey(dc.user))
		if err != nil || len(members) != 1 || members[0] != addrs[0] {
			t.Fatalf("%s: close key holds %v (%v), want %v", dc.user, members, err, addrs[0])
		}
		f, _ := framework.Push("drop.direct", nil)
		if err := app.SendTo(ctx, addrs[0], f); err != nil {
			t.Fatalf("%s: send to %v: %v", dc.user, addrs[0], err)
		}
	}
	eventually(t, "every send to a connection arrived", func() bool {
		for _, dc := range cs {
			dc.mu.Lock()
			n := dc.directs
			dc.mu.Unlock()
			if n != 1 {
				return false
			}
		}
		return true
	})
}
