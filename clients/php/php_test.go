// Package phpclient_test runs the PHP client (clients/php) and the sample
// backend against real msgo processes: one node, then a three-node cluster
// on a private Redis. PHPUnit runs its own suite against them; the Go side
// drives WebSocket clients through the backend's connect, rpc and
// disconnect and makes every manager call through the PHP Manager.
//
// php and phpunit must be installed (.ci/run installs them); without them
// the tests skip, or fail when CI is set.
package phpclient_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/framework/msgotest"
	"msgo/library/cache/cachetest"
)

const (
	authSecret   = "php-client-test-secret"
	managerToken = "php-client-manager-token"
	proxyToken   = "php-client-proxy-token"
)

// TestPHPClientNode runs everything against one msgo node.
func TestPHPClientNode(t *testing.T) {
	e := newEnv(t)
	n := e.startNode(t, "n1")
	t.Run("phpunit", func(t *testing.T) { e.phpunit(t, n, n) })
	t.Run("proxy", func(t *testing.T) { e.exercise(t, []*node{n}) })
}

// TestPHPClientCluster runs everything against three nodes on a private
// Redis: PHPUnit's WebSocket users on one node and its manager calls on
// another, the Go side's users spread over all three.
func TestPHPClientCluster(t *testing.T) {
	e := newEnv(t)
	redis := cachetest.StartRedis(t)
	shared := []string{"MSGO_CACHE_DRIVER=redis", "MSGO_CACHE_REDIS_ADDR=" + redis.Addr()}
	nodes := []*node{e.startNode(t, "p1", shared...), e.startNode(t, "p2", shared...), e.startNode(t, "p3", shared...)}
	for _, n := range nodes {
		waitFor(t, n.mgr+" sees three nodes", 20*time.Second, func() bool {
			nodes, _ := e.manager(t, n, "status", nil)["nodes"].([]any)
			return len(nodes) == 3
		})
	}
	t.Run("phpunit", func(t *testing.T) { e.phpunit(t, nodes[0], nodes[1]) })
	t.Run("proxy", func(t *testing.T) { e.exercise(t, nodes) })
}

// exercise drives real WebSocket users through the sample backend and the
// PHP Manager. Users connect on the first node; manager calls go to others.
func (e *env) exercise(t *testing.T, nodes []*node) {
	first, mid, last := nodes[0], nodes[len(nodes)/2], nodes[len(nodes)-1]
	room := unique("room")

	// connect: rooms from the backend before the 101, sys.connect first.
	aliceID := unique("alice")
	alice := e.dial(t, first, map[string]any{"id": aliceID, "type": "wechatUser", "code": room, "nickname": "Alice"})
	hello := firstFrame(t, alice)
	if hello.Event != "sys.connect" || hello.Status != 200 || len(hello.ID) != 0 {
		t.Fatalf("first frame: %+v, want a sys.connect push", hello)
	}
	var welcome struct {
		Welcome string   `json:"welcome"`
		Rooms   []string `json:"rooms"`
	}
	hello.Decode(t, &welcome)
	if welcome.Welcome != "hello Alice" || !slices.Equal(welcome.Rooms, []string{"lobby", room}) {
		t.Fatalf("sys.connect param: %s", hello.Param)
	}
	if rooms := strs(e.manager(t, last, "userRooms", map[string]any{"id": aliceID})["rooms"]); !slices.Contains(rooms, "lobby") || !slices.Contains(rooms, room) {
		t.Fatalf("alice's rooms seen from %s: %v", last.name, rooms)
	}
	if st := e.handshake(t, first, map[string]any{"id": "banned", "type": "wall"}); st != http.StatusForbidden {
		t.Fatalf("banned user's handshake: %d, want 403", st)
	}

	// rpc: the backend's reply relayed, its 4xx passed through.
	r := alice.Request(t, "Shop.Order.Create", map[string]any{"sku": "tea", "qty": 2})
	var order struct {
		Order struct{ ID, SKU, User, Node string }
	}
	r.Decode(t, &order)
	if r.Status != 200 || r.Event != "shop.order.create" || r.Info != "order created" || order.Order.ID == "" || order.Order.SKU != "tea" || order.Order.User != aliceID || order.Order.Node != first.name {
		t.Fatalf("rpc reply: %+v %s", r, r.Param)
	}
	if r := alice.Request(t, "shop.order.create", map[string]any{"sku": "tea", "qty": 0}); r.Status != 400 || !strings.Contains(r.Info, "qty") {
		t.Fatalf("bad input: %+v, want the backend's 400", r)
	}
	if r := alice.Request(t, "shop.cart.list", nil); r.Status != 404 || r.Event != "shop.cart.list" {
		t.Fatalf("method the backend lacks: %+v, want its 404", r)
	}

	// Every manager call through the PHP client, users on other nodes.
	bobID := unique("bob")
	bob := e.dial(t, mid, map[string]any{"id": bobID, "type": "wall", "nickname": "Wall"})
	bob.Await(t, "sys.connect")
	vip := unique("vip")
	expect(t, e.manager(t, last, "roomJoin", map[string]any{"id": bobID, "room": vip}), "joined", 1)
	expect(t, e.manager(t, first, "sendToRoom", map[string]any{"room": vip, "event": "vip.offer", "param": map[string]any{"pct": 20}}), "delivered", 1)
	bob.AwaitPush(t, "vip.offer")
	expect(t, e.manager(t, mid, "sendToRoom", map[string]any{"room": room, "event": "room.news", "param": map[string]any{}}), "delivered", 1)
	alice.AwaitPush(t, "room.news")
	expect(t, e.manager(t, first, "roomUsers", map[string]any{"room": vip, "limit": 10}), "count", 1)
	expect(t, e.manager(t, mid, "roomCount", map[string]any{"room": room}), "users", 1)
	expect(t, e.manager(t, last, "sendToUser", map[string]any{"id": aliceID, "event": "order.paid", "param": map[string]any{"order": 1}}), "delivered", 1)
	alice.AwaitPush(t, "order.paid")
	expect(t, e.manager(t, last, "sendToUsers", map[string]any{"ids": []string{aliceID, bobID}, "event": "coupon", "param": map[string]any{}}), "delivered", 2)
	alice.AwaitPush(t, "coupon")
	bob.AwaitPush(t, "coupon")
	e.manager(t, mid, "broadcast", map[string]any{"event": "sale", "param": map[string]any{}, "excludeId": aliceID})
	bob.AwaitPush(t, "sale")
	expect(t, e.manager(t, first, "notify", map[string]any{"title": "t", "message": "m", "level": "info", "ids": []string{bobID}}), "delivered", 1)
	bob.AwaitPush(t, "system.notice")
	expect(t, e.manager(t, last, "dataUpdate", map[string]any{"resourceType": "product", "action": "update", "data": map[string]any{"id": 7}, "room": vip}), "delivered", 1)
	bob.AwaitPush(t, "data.update")
	msgotest.NoPush(t, 200*time.Millisecond, "sale", "the excluded user", alice)
	expect(t, e.manager(t, last, "onlineCheck", map[string]any{"id": bobID, "type": "wall"}), "is_online", true)
	if users := e.manager(t, first, "onlineUsers", map[string]any{"type": "wall"}); !strings.Contains(fmt.Sprint(users["users"]), bobID) {
		t.Fatalf("onlineUsers lacks %s: %v", bobID, users)
	}
	// Other nodes' connection counts arrive with their heartbeat.
	waitFor(t, "onlineCount counting alice and bob", 10*time.Second, func() bool {
		c := e.manager(t, mid, "onlineCount", nil)
		return c["connections"].(float64) >= 2 && c["users"].(float64) >= 2
	})
	expect(t, e.manager(t, mid, "roomLeave", map[string]any{"id": bobID, "room": vip}), "left", 1)
	if rooms := strs(e.manager(t, first, "userRooms", map[string]any{"id": bobID})["rooms"]); slices.Contains(rooms, vip) {
		t.Fatalf("bob still in %s: %v", vip, rooms)
	}
	if doc := e.manager(t, last, "openapi", nil); doc["paths"] == nil {
		t.Fatalf("openapi: %v", doc)
	}
	var metrics string
	if e.shell.do(t, "metrics", "http://"+first.mgr, map[string]any{}, &metrics); !strings.Contains(metrics, "# TYPE msgo_") {
		t.Fatalf("metrics: %.200s", metrics)
	}
	expect(t, e.manager(t, first, "status", nil), "node_id", first.name)

	// disconnect: kicked (1008), closed by the client (1000), dropped (1006).
	expect(t, e.manager(t, last, "disconnectUser", map[string]any{"id": aliceID}), "delivered", 1)
	if c := alice.AwaitClose(t); c.Code != 1008 {
		t.Fatalf("kicked with %d, want 1008", c.Code)
	}
	bob.WriteFrame(t, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))))
	carolID := unique("carol")
	carol := e.dial(t, last, map[string]any{"id": carolID, "type": "kefu"})
	carol.Await(t, "sys.connect")
	carol.Close()

	for _, w := range []struct {
		id   string
		code int
		n    *node
	}{{aliceID, 1008, first}, {bobID, 1000, mid}, {carolID, 1006, last}} {
		ev := e.backend.awaitEvent(t, w.id)
		if ev.Code != w.code || ev.Node != w.n.name || !strings.HasPrefix(ev.Conn, w.n.name+"/") || ev.DurationMs < 0 || ev.Time == 0 {
			t.Errorf("disconnect event of %s: %+v, want code %d from %s", w.id, ev, w.code, w.n.name)
		}
	}
	seen := map[string]bool{}
	for _, ev := range e.backend.events(t) {
		if seen[ev.EventID] {
			t.Errorf("event %s stored twice", ev.EventID)
		}
		seen[ev.EventID] = true
	}
}

// env is one test's PHP tools, msgo binary and sample backend.
type env struct {
	php, phpunitBin, msgo string
	backend               *backend
	shell                 *shell
}

func newEnv(t *testing.T) *env {
	e := &env{php: tool(t, "php"), phpunitBin: tool(t, "phpunit"), msgo: msgoBinary(t)}
	e.backend = startBackend(t, e.php)
	e.shell = startShell(t, e.php)
	return e
}

func tool(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run installs it", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

var build struct {
	once sync.Once
	bin  string
	err  error
}

// msgoBinary builds msgo once for the package's tests.
func msgoBinary(t *testing.T) string {
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "msgo-php-test")
		if err != nil {
			build.err = err
			return
		}
		build.bin = filepath.Join(dir, "msgo")
		out, err := exec.Command("go", "build", "-o", build.bin, "msgo/console").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("build msgo: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.bin != "" {
		os.RemoveAll(filepath.Dir(build.bin))
	}
	os.Exit(code)
}

// phpunit runs the PHP suite with its WebSocket users on ws and its manager
// calls on mgr; a skipped test fails the run, so nothing passes by skipping.
func (e *env) phpunit(t *testing.T, ws, mgr *node) {
	cmd := exec.Command(e.phpunitBin, "--fail-on-skipped", "--fail-on-warning", "--fail-on-risky")
	cmd.Env = append(os.Environ(),
		"MSGO_MANAGER_URL=http://"+mgr.mgr,
		"MSGO_MANAGER_TOKEN="+managerToken,
		"MSGO_WS_URL=ws://"+ws.ws+"/ws",
		"MSGO_AUTH_SECRET="+authSecret,
		"MSGO_BIN="+e.msgo,
		"MSGO_BACKEND_URL="+e.backend.url,
		"MSGO_PROXY_TOKEN="+proxyToken,
		"MSGO_BACKEND_EVENTS="+e.backend.file,
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("phpunit (%s): %s\n%s", time.Since(start).Round(time.Millisecond), lastLine(out), out)
	if err != nil {
		t.Fatalf("phpunit failed: %v", err)
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// shellPHP is the PHP side of the Go tests: one php process that reads a
// JSON call per line ({"call","url","args"}), makes it with the client
// (Token::mint, or a Manager method with named arguments; one Manager per
// base URL, so its connection is reused) and writes {"data"} or {"error"}.
const shellPHP = `require 'autoload.php';
$managers = [];
while (($line = fgets(STDIN)) !== false) {
    $c = json_decode($line, true);
    try {
        $data = $c['call'] === 'mint'
            ? Msgo\Token::mint($c['args'], getenv('MSGO_AUTH_SECRET'))
            : ($managers[$c['url']] ??= new Msgo\Manager($c['url'], getenv('MSGO_MANAGER_TOKEN')))->{$c['call']}(...$c['args']);
        $out = ['data' => $data];
    } catch (Msgo\Exception\MsgoException $e) {
        $out = ['error' => get_class($e) . ' ' . $e->getStatus() . ': ' . $e->getMessage()];
    }
    echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
}`

// shell is a running shellPHP.
type shell struct {
	mu  sync.Mutex
	in  io.Writer
	out *bufio.Reader
}

func startShell(t *testing.T, php string) *shell {
	cmd := exec.Command(php, "-r", shellPHP)
	cmd.Env = append(os.Environ(), "MSGO_AUTH_SECRET="+authSecret, "MSGO_MANAGER_TOKEN="+managerToken)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	process(t, "php shell", cmd)
	t.Cleanup(func() { in.Close() })
	return &shell{in: in, out: bufio.NewReader(out)}
}

// do makes one call and decodes its data into v.
func (s *shell) do(t *testing.T, call, url string, args, v any) {
	t.Helper()
	line, _ := json.Marshal(map[string]any{"call": call, "url": url, "args": args})
	s.mu.Lock()
	_, err := s.in.Write(append(line, '\n'))
	var answer []byte
	if err == nil {
		answer, err = s.out.ReadBytes('\n')
	}
	s.mu.Unlock()
	var res struct {
		Data  json.RawMessage `json:"data"`
		Error string          `json:"error"`
	}
	if err == nil {
		err = json.Unmarshal(answer, &res)
	}
	if err == nil && res.Error == "" {
		err = json.Unmarshal(res.Data, v)
	}
	if err != nil || res.Error != "" {
		t.Fatalf("php %s(%s) on %s: %s %v", call, args, url, res.Error, err)
	}
}

// manager makes one call through the PHP Manager; args are its named
// arguments. A MsgoException fails the test with its class and status.
func (e *env) manager(t *testing.T, n *node, method string, args map[string]any) map[string]any {
	t.Helper()
	if args == nil {
		args = map[string]any{}
	}
	var data map[string]any
	e.shell.do(t, method, "http://"+n.mgr, args, &data)
	return data
}

func expect(t *testing.T, data map[string]any, key string, want any) {
	t.Helper()
	got := data[key]
	if f, ok := got.(float64); ok {
		got = int(f)
	}
	if got != want {
		t.Fatalf("%s = %v, want %v (data %v)", key, got, want, data)
	}
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// mint mints a token with the PHP client.
func (e *env) mint(t *testing.T, claims map[string]any) string {
	t.Helper()
	var tok string
	e.shell.do(t, "mint", "", claims, &tok)
	return tok
}

// dial connects with a token minted in PHP.
func (e *env) dial(t *testing.T, n *node, claims map[string]any) *msgotest.Client {
	t.Helper()
	c, err := msgotest.Connect("ws://"+n.ws+"/ws?auth="+e.mint(t, claims), ws.Dialer{Timeout: msgotest.DefaultTimeout})
	if err != nil {
		t.Fatalf("dial %s as %v: %v", n.name, claims, err)
	}
	t.Cleanup(c.Close)
	return c
}

// handshake answers the HTTP status of a refused handshake, 101 otherwise.
func (e *env) handshake(t *testing.T, n *node, claims map[string]any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), msgotest.DefaultTimeout)
	defer cancel()
	conn, _, _, err := ws.Dialer{}.Dial(ctx, "ws://"+n.ws+"/ws?auth="+e.mint(t, claims))
	var st ws.StatusError
	switch {
	case errors.As(err, &st):
		return int(st)
	case err != nil:
		t.Fatalf("handshake: %v", err)
	}
	conn.Close()
	return http.StatusSwitchingProtocols
}

// firstFrame waits for a connection's first frame and returns it.
func firstFrame(t *testing.T, c *msgotest.Client) msgotest.Reply {
	t.Helper()
	waitFor(t, "a first frame", msgotest.DefaultTimeout, func() bool { return len(c.Raw()) > 0 })
	var r msgotest.Reply
	if err := json.Unmarshal(c.Raw()[0], &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func unique(prefix string) string {
	b := make([]byte, 5)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process runs a command until the test ends, then SIGTERMs it (SIGKILL
// after 20 s); its output is logged when the test failed.
func process(t *testing.T, name string, cmd *exec.Cmd) {
	var out bytes.Buffer
	cmd.Stderr = &out
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.Bytes())
		}
	})
}

// node is one msgo process with the sample backend as its proxy.
type node struct {
	name, ws, mgr, dir string
	cmd                *exec.Cmd
}

func (e *env) startNode(t *testing.T, name string, extra ...string) *node {
	n := &node{name: name, ws: freeAddr(t), mgr: freeAddr(t), dir: t.TempDir()}
	e.runNode(t, n, extra...)
	return n
}

// runNode starts n's msgo process (again, after a kill: same addresses,
// same runtime directory and database).
func (e *env) runNode(t *testing.T, n *node, extra ...string) {
	name := n.name
	cmd := exec.Command(e.msgo, "start")
	n.cmd = cmd
	cmd.Dir = n.dir
	cmd.Env = append(os.Environ(),
		"MSGO_NODE_ID="+name,
		"MSGO_RUNTIME_DIR="+filepath.Join(cmd.Dir, "runtime"),
		"MSGO_OUTSIDE_LISTEN="+n.ws,
		"MSGO_MANAGER_LISTEN="+n.mgr,
		"MSGO_MANAGER_TOKEN="+managerToken,
		"MSGO_AUTH_SECRET="+authSecret,
		"MSGO_CACHE_DRIVER=memory",
		"MSGO_DB_DRIVER=sqlite",
		"MSGO_DB_DSN=",
		"MSGO_PROXY_ENDPOINT="+e.backend.url,
		"MSGO_PROXY_TOKEN="+proxyToken,
		"MSGO_PROXY_METHODS=shop",
		"MSGO_PROXY_CONNECT=true",
		"MSGO_PROXY_DISCONNECT=true",
	)
	cmd.Env = append(cmd.Env, extra...)
	process(t, "msgo "+name, cmd)
	waitFor(t, "msgo "+name+" ready", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + n.mgr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// backend is the sample backend served by php -S.
type backend struct {
	url, file, addr, php string
	cmd                  *exec.Cmd
}

func startBackend(t *testing.T, php string) *backend {
	addr := freeAddr(t)
	b := &backend{url: "http://" + addr, addr: addr, php: php, file: filepath.Join(t.TempDir(), "disconnects.jsonl")}
	b.start(t)
	return b
}

// start serves the backend (again, after stop: same address, same file).
func (b *backend) start(t *testing.T) {
	b.cmd = exec.Command(b.php, "-S", b.addr, "examples/backend.php")
	b.cmd.Env = append(os.Environ(), "MSGO_PROXY_TOKEN="+proxyToken, "MSGO_BACKEND_EVENTS="+b.file)
	process(t, "php -S", b.cmd)
	waitFor(t, "php -S listening", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", b.addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// kill ends a process at once, as kill -9 does.
func kill(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// event is one line of the backend's disconnect file.
type event struct {
	EventID    string `json:"event_id"`
	Conn       string `json:"conn"`
	Node       string `json:"node"`
	ID         string `json:"id"`
	Type       string `json:"type"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	Time       int64  `json:"time"`
	DurationMs int64  `json:"duration_ms"`
}

func (b *backend) events(t *testing.T) []event {
	t.Helper()
	f, err := os.Open(b.file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("disconnect file line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// awaitEvent waits for the disconnect event of the user id.
func (b *backend) awaitEvent(t *testing.T, id string) event {
	t.Helper()
	var found *event
	waitFor(t, "the disconnect event of "+id, 20*time.Second, func() bool {
		for _, ev := range b.events(t) {
			if ev.ID == id {
				found = &ev
				return true
			}
		}
		return false
	})
	return *found
}
