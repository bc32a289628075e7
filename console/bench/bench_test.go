package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"msgo/app/index"
	"msgo/framework"
	"msgo/framework/manager"
	"msgo/framework/msgotest"
	"msgo/library/cache"
)

// joinModule stands in for app/live's live.user.join: it joins the token's
// room and pushes live.user.join to it before replying, as the live module
// does, so the bench meets the same join storm.
func joinModule(r *framework.Router) {
	r.Handle("live.user.join", func(c *framework.Context) error {
		cl, app, ctx := c.Client(), c.App(), c.Context()
		if err := app.JoinGroup(ctx, cl.ID(), framework.Room(cl.Code())); err != nil {
			return err
		}
		online, err := app.GroupCount(ctx, framework.Room(cl.Code()))
		if err != nil {
			return err
		}
		f, err := framework.Push("live.user.join", map[string]any{"id": cl.UserID(), "nickname": cl.Nickname(), "type": cl.Type(), "online": online})
		if err != nil {
			return err
		}
		if err := app.SendToGroup(ctx, framework.Room(cl.Code()), f); err != nil {
			return err
		}
		return c.Success("ok", map[string]any{"room": cl.Code(), "online": online})
	}, framework.Allow(framework.TypeWechatUser, framework.TypeWall))
}

func startNode(t *testing.T, o msgotest.Options) *msgotest.Server {
	t.Helper()
	o.Modules = []msgotest.Module{index.Register, joinModule}
	if o.Config.RateLimit == 0 {
		o.Config.RateLimit = -1
	}
	return msgotest.Start(t, o)
}

const testManagerToken = "bench-test-token"

// startManager serves node's manager port with framework/manager.
func startManager(t *testing.T, node *msgotest.Server) string {
	t.Helper()
	srv := httptest.NewServer(manager.New(manager.Options{Server: node.Server, Token: testManagerToken}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// line is one JSON line of the bench's output.
type line struct {
	Scenario string              `json:"scenario"`
	Run      json.RawMessage     `json:"run"`
	Params   map[string]any      `json:"params"`
	Figures  map[string]*float64 `json:"figures"`
	Notes    []string            `json:"notes"`
}

func (l line) fig(t *testing.T, key string) float64 {
	t.Helper()
	v, ok := l.Figures[key]
	if !ok || v == nil {
		t.Fatalf("figure %s missing in %v", key, l.Figures)
	}
	return *v
}

// lockedBuffer collects stderr, which progress goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// bench runs `bench args...` and returns stdout, stderr and the JSON lines.
func bench(t *testing.T, args ...string) (string, string, []line, error) {
	t.Helper()
	cmd := Command()
	var out bytes.Buffer
	var errw lockedBuffer
	cmd.SetOut(&out)
	cmd.SetErr(&errw)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	var lines []line
	for _, s := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(s, "{") {
			var l line
			if jerr := json.Unmarshal([]byte(s), &l); jerr != nil {
				t.Fatalf("bad JSON line %q: %v", s, jerr)
			}
			lines = append(lines, l)
		}
	}
	return out.String(), errw.String(), lines, err
}

// mustBench is bench that fails the test on an error and returns the last run.
func mustBench(t *testing.T, args ...string) (string, string, line) {
	t.Helper()
	out, errOut, lines, err := bench(t, args...)
	if err != nil {
		t.Fatalf("bench %v: %v\nstderr:\n%s", args, err, errOut)
	}
	if len(lines) == 0 {
		t.Fatalf("no JSON line in %q", out)
	}
	return out, errOut, lines[len(lines)-1]
}

var self = strconv.Itoa(os.Getpid())

// awaitConnections polls until the node holds n connections.
func awaitConnections(t *testing.T, srv *msgotest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Connections() != n {
		if time.Now().After(deadline) {
			t.Fatalf("node holds %d connections, want %d", srv.Connections(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConns(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	out, _, l := mustBench(t, "conns", "--url", srv.URL, "--secret", srv.Secret, "--conns", "30", "--concurrency", "4",
		"--join", "--room-size", "10", "--duration", "300ms", "--sources", "2", "--pid", self)
	if l.Scenario != "conns" || l.fig(t, "conns_opened") != 30 || l.fig(t, "conns_failed") != 0 || l.fig(t, "conns_dropped") != 0 {
		t.Fatalf("figures %v, notes %v", l.Figures, l.Notes)
	}
	for _, k := range []string{"connects_per_s", "server_rss_before_mib", "server_rss_after_mib", "server_rss_per_conn_kib"} {
		l.fig(t, k)
	}
	if !strings.Contains(out, "server rss per conn kib") || !strings.Contains(out, "run 1") {
		t.Errorf("table missing rows:\n%s", out)
	}
	awaitConnections(t, srv, 0) // the bench closed them all
}

func TestConnsJoinedWhileHeld(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	done := make(chan line, 1)
	go func() {
		_, _, l := mustBench(t, "conns", "--url", srv.URL, "--secret", srv.Secret, "--conns", "12", "--join", "--room", "r", "--room-size", "0", "--duration", "1s", "--json")
		done <- l
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, _ := srv.App().GroupCount(context.Background(), framework.Room("r"))
		if n == 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("room r has %d members, want 12", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if l := <-done; l.fig(t, "conns_opened") != 12 {
		t.Fatalf("figures %v", l.Figures)
	}
}

func TestConnectRate(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	out, _, l := mustBench(t, "connect-rate", "--url", srv.URL, "--secret", srv.Secret, "--conns", "50", "--concurrency", "8", "--join", "--pid", self, "--json")
	if strings.Count(out, "\n") != 1 {
		t.Errorf("--json printed more than the JSON line:\n%s", out)
	}
	if l.fig(t, "conns_opened") != 50 || l.fig(t, "connects_per_s") <= 0 {
		t.Fatalf("figures %v", l.Figures)
	}
	if l.fig(t, "server_cpu_us_per_connect") < 0 {
		t.Fatalf("figures %v", l.Figures)
	}
	awaitConnections(t, srv, 0)
}

func TestConnectRateRejected(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	_, _, _, err := bench(t, "connect-rate", "--url", srv.URL, "--secret", "not the node's secret", "--conns", "30", "--concurrency", "2")
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v, want the 403 of a wrong secret", err)
	}
}

func TestFanout(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	mgr := startManager(t, srv)
	_, errOut, l := mustBench(t, "fanout", "--url", srv.URL, "--secret", srv.Secret, "--manager", mgr, "--manager-token", testManagerToken,
		"--conns", "20", "--room", "fan", "--rate", "20", "--duration", "1500ms", "--pid", self, "--json")
	want := map[string]float64{"members": 20, "pushes_sent": 30, "push_errors": 0, "deliveries_expected": 600,
		"deliveries_received": 600, "manager_delivered": 600, "loss": 0, "duplicates": 0, "stray": 0, "deliveries_offered_per_s": 400}
	for k, v := range want {
		if got := l.fig(t, k); got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if p50, p99 := l.fig(t, "p50_ms"), l.fig(t, "p99_ms"); p50 <= 0 || p99 < p50 || l.fig(t, "max_ms") < p99 {
		t.Errorf("latencies p50 %v p99 %v max %v", p50, p99, l.fig(t, "max_ms"))
	}
	l.fig(t, "server_cpu_us_per_delivery")
	l.fig(t, "deliveries_per_s")
	if !strings.Contains(errOut, "[fanout") || !strings.Contains(errOut, "server cpu") {
		t.Errorf("no progress line on stderr:\n%s", errOut)
	}
}

func TestManagerTokenFromEnvironment(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	mgr := startManager(t, srv)
	t.Setenv("MSGO_MANAGER_TOKEN", testManagerToken)
	_, _, l := mustBench(t, "fanout", "--url", srv.URL, "--secret", srv.Secret, "--manager", mgr,
		"--conns", "3", "--rate", "10", "--duration", "200ms", "--json")
	if l.fig(t, "push_errors") != 0 || l.fig(t, "deliveries_received") != 6 {
		t.Fatalf("figures %v, notes %v", l.Figures, l.Notes)
	}
}

func TestFanoutManagerRefuses(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	mgr := startManager(t, srv)
	_, _, l := mustBench(t, "fanout", "--url", srv.URL, "--secret", srv.Secret, "--manager", mgr, "--manager-token", "wrong",
		"--conns", "5", "--rate", "10", "--duration", "300ms", "--drain", "200ms", "--json")
	if l.fig(t, "pushes_sent") != 0 || l.fig(t, "push_errors") != 3 || l.fig(t, "deliveries_received") != 0 {
		t.Fatalf("figures %v", l.Figures)
	}
	if len(l.Notes) == 0 || !strings.Contains(l.Notes[0], "401") {
		t.Fatalf("notes %v, want the manager's 401", l.Notes)
	}
}

func TestFanoutScheduleSlips(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	h := manager.New(manager.Options{Server: srv.Server, Token: testManagerToken})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	_, _, l := mustBench(t, "fanout", "--url", srv.URL, "--secret", srv.Secret, "--manager", slow.URL, "--manager-token", testManagerToken,
		"--conns", "3", "--rate", "10", "--duration", "300ms", "--push-workers", "1", "--json")
	if l.fig(t, "loss") != 0 || l.fig(t, "pushes_sent") != 3 {
		t.Fatalf("figures %v", l.Figures)
	}
	if len(l.Notes) == 0 || !strings.Contains(l.Notes[0], "slipped") {
		t.Fatalf("notes %v, want the slip", l.Notes)
	}
}

func TestRPC(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	_, _, lines, err := bench(t, "rpc", "--url", srv.URL, "--secret", srv.Secret, "--conns", "10", "--duration", "400ms", "--pid", self, "--runs", "2", "--pause", "100ms", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || string(lines[2].Run) != `"median"` {
		t.Fatalf("want two runs and a median, got %d lines", len(lines))
	}
	for _, l := range lines {
		if l.fig(t, "requests") <= 0 || l.fig(t, "errors") != 0 || l.fig(t, "conns_opened") != 10 {
			t.Fatalf("run %s: figures %v", l.Run, l.Figures)
		}
		if l.fig(t, "p99_ms") < l.fig(t, "p50_ms") {
			t.Errorf("p99 below p50: %v", l.Figures)
		}
	}
	lines[0].fig(t, "server_cpu_us_per_request")
	lines[0].fig(t, "client_cpu_pct")
}

func TestRPCRateLimited(t *testing.T) {
	srv := startNode(t, msgotest.Options{Config: framework.Config{RateLimit: 5}})
	_, _, l := mustBench(t, "rpc", "--url", srv.URL, "--secret", srv.Secret, "--conns", "2", "--duration", "300ms", "--json")
	if l.fig(t, "errors") == 0 {
		t.Fatalf("no errors counted against a limit of 5/s: %v", l.Figures)
	}
	if _, ok := l.Figures["server_cpu_pct"]; ok {
		t.Errorf("server figures without --pid: %v", l.Figures)
	}
	if len(l.Notes) == 0 || !strings.Contains(l.Notes[len(l.Notes)-1], "MSGO_OUTSIDE_RATE_LIMIT") {
		t.Fatalf("notes %v, want the rate-limit hint", l.Notes)
	}
}

func TestCluster(t *testing.T) {
	store := cache.NewMemory()
	t.Cleanup(func() { store.Close() })
	a := startNode(t, msgotest.Options{Store: store, Secret: "cluster-secret"})
	b := startNode(t, msgotest.Options{Store: store, Secret: "cluster-secret"})
	mgr := startManager(t, a)
	_, _, l := mustBench(t, "cluster", "--url", a.URL+","+b.URL, "--secret", "cluster-secret", "--manager", mgr, "--manager-token", testManagerToken,
		"--conns", "20", "--rate", "40", "--duration", "1s", "--json")
	want := map[string]float64{"conns_opened": 20, "pushes_sent": 40, "push_errors": 0, "deliveries_received": 40, "loss": 0, "duplicates": 0, "manager_delivered": 40}
	for k, v := range want {
		if got := l.fig(t, k); got != v {
			t.Errorf("%s = %v, want %v (notes %v)", k, got, v, l.Notes)
		}
	}
	l.fig(t, "p99_ms")
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"remote url", []string{"rpc", "--url", "ws://10.1.2.3:9501/ws", "--secret", "s"}, "loopback"},
		{"remote name", []string{"rpc", "--url", "ws://example.com/ws", "--secret", "s"}, "loopback"},
		{"remote node", []string{"cluster", "--url", "ws://127.0.0.1:1/ws,ws://192.168.1.1:1/ws", "--secret", "s"}, "loopback"},
		{"remote manager", []string{"fanout", "--manager", "http://8.8.8.8:9502", "--secret", "s"}, "loopback"},
		{"tls", []string{"rpc", "--url", "wss://127.0.0.1/ws", "--secret", "s"}, "scheme"},
		{"fd budget", []string{"conns", "--conns", "10000000", "--secret", "s"}, "separate processes"},
		{"no secret", []string{"rpc", "--runtime-dir", dir}, "no secret"},
		{"zero rate", []string{"fanout", "--rate", "0", "--secret", "s", "--url", "ws://127.0.0.1:1/ws"}, "--rate"},
		{"one node", []string{"cluster", "--secret", "s", "--url", "ws://127.0.0.1:1/ws"}, "two node"},
		{"two nodes", []string{"rpc", "--secret", "s", "--url", "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/ws"}, "only cluster"},
		{"extra argument", []string{"rpc", "now"}, "unknown command"},
	}
	t.Setenv("MSGO_AUTH_SECRET", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := bench(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestSecretSources(t *testing.T) {
	srv := startNode(t, msgotest.Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(srv.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MSGO_AUTH_SECRET", "")
	args := []string{"rpc", "--url", srv.URL, "--conns", "2", "--duration", "100ms", "--json"}
	if _, _, l := mustBench(t, append(args, "--runtime-dir", dir)...); l.fig(t, "conns_opened") != 2 {
		t.Fatalf("secret from the runtime dir: %v", l.Figures)
	}
	t.Setenv("MSGO_AUTH_SECRET", srv.Secret)
	if _, _, l := mustBench(t, append(args, "--runtime-dir", t.TempDir())...); l.fig(t, "conns_opened") != 2 {
		t.Fatalf("secret from the environment: %v", l.Figures)
	}
}
