package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// binary is the msgo command built once for the tests that run it as a
// process, as an operator would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "msgo-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "msgo")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		panic("build msgo: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is one msgo process tree with its own runtime dir and ports.
type instance struct {
	t       *testing.T
	bin     string
	dir     string
	ws, mgr string
	env     []string
	seen    []int // pids the pid file named, for killLeftover
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newInstance(t *testing.T, extraEnv ...string) *instance {
	dir := t.TempDir()
	bin := filepath.Join(dir, "msgo")
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, bin: bin, dir: dir, ws: freePort(t), mgr: freePort(t)}
	in.env = append(os.Environ(),
		"MSGO_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"MSGO_OUTSIDE_LISTEN="+in.ws,
		"MSGO_MANAGER_LISTEN="+in.mgr,
		"MSGO_CACHE_DRIVER=memory",
		"MSGO_DB_DRIVER=sqlite",
		"MSGO_DB_DSN=",
	)
	in.env = append(in.env, extraEnv...)
	t.Cleanup(func() {
		in.cmd("stop", "--timeout", "20s")
		in.killLeftover()
	})
	return in
}

// killLeftover kills the process the pid file names, and any process seen
// there before, if it still runs this instance's binary: a failed reload
// test may leave a process that took over, which stop did not reach.
func (in *instance) killLeftover() {
	pids := in.seen
	if b, err := os.ReadFile(filepath.Join(in.dir, "runtime", "msgo.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pids = append(pids, pid)
		}
	}
	dir, err := filepath.EvalSymlinks(in.dir)
	if err != nil {
		return
	}
	for _, pid := range pids {
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err != nil || !strings.HasPrefix(exe, dir+string(filepath.Separator)) {
			continue // gone, or not ours
		}
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
}

// cmd runs msgo and returns its output. "start" runs the instance's own copy
// of the binary (the one a reload re-executes); other commands run the
// pristine build, as an operator's shell would.
func (in *instance) cmd(args ...string) (string, error) {
	bin := binary
	if len(args) > 0 && args[0] == "start" {
		bin = in.bin
	}
	c := exec.Command(bin, args...)
	c.Env = in.env
	c.Dir = in.dir
	out, err := c.CombinedOutput()
	return string(out), err
}

func (in *instance) must(args ...string) string {
	in.t.Helper()
	out, err := in.cmd(args...)
	if err != nil {
		in.t.Fatalf("msgo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (in *instance) secret() string {
	for _, kv := range in.env {
		if v, ok := strings.CutPrefix(kv, "MSGO_AUTH_SECRET="); ok {
			return v
		}
	}
	b, err := os.ReadFile(filepath.Join(in.dir, "runtime", "secret"))
	if err != nil {
		in.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (in *instance) dial(id framework.Identity) (*msgotest.Client, error) {
	tok, err := encrypt.New(in.secret(), time.Hour).Mint(encrypt.Claims{ID: id.ID, Type: id.Type, Code: id.Code, Nickname: id.Nickname})
	if err != nil {
		in.t.Fatal(err)
	}
	return (&msgotest.Server{URL: "ws://" + in.ws + "/ws"}).DialURL("ws://" + in.ws + "/ws?auth=" + tok)
}

func (in *instance) pid() string {
	b, err := os.ReadFile(filepath.Join(in.dir, "runtime", "msgo.pid"))
	if err != nil {
		in.t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	if n, err := strconv.Atoi(pid); err == nil {
		in.seen = append(in.seen, n)
	}
	return pid
}

// counter reads one series from the manager port: a metric's name, with
// its labels as /metrics writes them if it has any.
func counter(t *testing.T, in *instance, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + in.mgr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	for line := range strings.Lines(body.String()) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}
