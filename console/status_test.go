package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// TestStatusSaysWhatToDo: with no msgo running, status, stop and reload say
// why and how to start it, for a missing pid file and a stale one.
func TestStatusSaysWhatToDo(t *testing.T) {
	in := newInstance(t)
	pidPath := filepath.Join("runtime", "msgo.pid")
	for _, c := range []string{"status", "stop", "reload"} {
		out, err := in.cmd(c)
		if err == nil || !strings.Contains(out, "msgo is not running (no pid file at "+filepath.Join(in.dir, pidPath)+"); start it with msgo start -d") {
			t.Errorf("msgo %s with nothing running: err=%v\n%s", c, err, out)
		}
	}
	if err := os.MkdirAll(filepath.Join(in.dir, "runtime"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in.dir, pidPath), []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := in.cmd("status")
	if err == nil || !strings.Contains(out, "names pid 999999999, which has exited); start it with msgo start -d") {
		t.Errorf("status with a stale pid file: err=%v\n%s", err, out)
	}
}

// TestStatusTable: start -d names its log file; status prints a table (pid,
// version, uptime as a duration, connections, users, rooms, the nodes with
// their ages) and --json the manager's answer; a wrong token is named.
func TestStatusTable(t *testing.T) {
	in := newInstance(t, "MSGO_LOG_FILE=msgo.log", "MSGO_MANAGER_TOKEN=status-token")
	out := in.must("start", "-d")
	logFile := filepath.Join(in.dir, "runtime", "msgo.log")
	if !strings.Contains(out, "log: "+logFile+" (log.file)") || !strings.Contains(out, filepath.Join(in.dir, "runtime", "msgo.out")) {
		t.Fatalf("start -d does not say where its log goes (%s):\n%s", logFile, out)
	}
	if b, err := os.ReadFile(logFile); err != nil || !strings.Contains(string(b), "msgo started") {
		t.Fatalf("the log file it named: %v\n%s", err, b)
	}
	defer joined(t, in, "u1", "r1").Close()

	st := in.must("status")
	for _, re := range []string{
		`(?m)^msgo +running$`,
		`(?m)^pid +` + in.pid() + `$`,
		`(?m)^version +dev \(` + regexp.QuoteMeta(runtime.Version()) + `\)$`,
		`(?m)^uptime +(\d+h)?(\d+m)?\d+s$`,
		`(?m)^connections +1 here, 1 in the cluster$`,
		`(?m)^users +1 here, 1 in the cluster$`,
		`(?m)^rooms +1 here$`,
		`(?m)^NODE +CONNECTIONS +AGE`,
		`(?m)^\S+ +1 +\d+s +\(this node\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(st) {
			t.Errorf("status does not match %s:\n%s", re, st)
		}
	}

	var js struct {
		PID   int `json:"pid"`
		Nodes []struct {
			ID string `json:"id"`
		} `json:"nodes"`
		Connections int `json:"connections"`
	}
	raw := in.must("status", "--json")
	if err := json.Unmarshal([]byte(raw), &js); err != nil || strings.Count(strings.TrimSpace(raw), "\n") != 0 {
		t.Fatalf("status --json is not one JSON line: %v\n%s", err, raw)
	}
	if pid := in.pid(); js.Connections != 1 || len(js.Nodes) != 1 || pid == "" || js.PID == 0 {
		t.Fatalf("status --json: %+v", js)
	}

	wrong := *in
	wrong.env = append(append([]string{}, in.env...), "MSGO_MANAGER_TOKEN=wrong")
	if out, err := wrong.cmd("status"); err == nil || !strings.Contains(out, "refused the token; set MSGO_MANAGER_TOKEN") {
		t.Errorf("status with a wrong token: err=%v\n%s", err, out)
	}
}

// TestMetricsOfTheBinary: the real binary's /metrics names its build and
// counts users, rooms and manager calls by route.
func TestMetricsOfTheBinary(t *testing.T) {
	in := newInstance(t)
	in.must("start", "-d")
	defer joined(t, in, "u1", "r1").Close()
	in.must("status")
	b := scrapeText(t, in)
	for _, want := range []string{
		`msgo_build_info{goversion="` + runtime.Version() + `",version="dev"} 1`,
		"msgo_users 1",
		"msgo_rooms 1",
		`msgo_manager_requests_total{call="/api/status",code="200"} 1`,
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestOperationsDocListsEveryMetric: every metric family the real binary
// exposes at /metrics, once it has seen a handshake, a close and manager
// calls, is named in docs/operations.md.
func TestOperationsDocListsEveryMetric(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	in := newInstance(t)
	in.must("start", "-d")
	joined(t, in, "u1", "r1").Close()
	in.must("status")
	scrapeText(t, in)
	body := scrapeText(t, in) // the second scrape sees the first one counted
	families := regexp.MustCompile(`(?m)^# TYPE (\S+) `).FindAllStringSubmatch(string(body), -1)
	if len(families) < 20 {
		t.Fatalf("only %d metric families:\n%s", len(families), body)
	}
	for _, f := range families {
		if !strings.Contains(string(doc), "`"+f[1]+"`") {
			t.Errorf("docs/operations.md does not name the metric %s: add it to the Metrics section", f[1])
		}
	}
	for _, want := range []string{"msgo_handshakes_total", "msgo_closes_total", "msgo_manager_requests_total", "msgo_manager_request_seconds"} {
		if !strings.Contains(string(body), "# TYPE "+want+" ") {
			t.Errorf("/metrics has no %s yet: the test's traffic should have made it", want)
		}
	}
}

// joined dials the instance as a wechatUser with the room code and joins
// the live room.
func joined(t *testing.T, in *instance, id, room string) *msgotest.Client {
	t.Helper()
	c, err := in.dial(framework.Identity{ID: id, Type: framework.TypeWechatUser, Code: room})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Request(t, "live.user.join", nil); r.Status != 200 {
		c.Close()
		t.Fatalf("join: %+v", r)
	}
	return c
}

// scrapeText reads the instance's /metrics (no token configured).
func scrapeText(t *testing.T, in *instance) []byte {
	t.Helper()
	res, err := http.Get("http://" + in.mgr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", res.StatusCode, err)
	}
	return b
}
