package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSystemdUnit checks docs/systemd/msgo.service with systemd-analyze
// verify, pointed at the test's binary. systemd is optional, so a machine
// without systemd-analyze skips, in CI too.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("..", "docs", "systemd", "msgo.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`(?m)^Type=notify$`, `(?m)^NotifyAccess=all$`, `(?m)^ExecStart=\S+/msgo start\b`,
		`(?m)^ExecReload=\S+/msgo reload\b`, `(?m)^LimitNOFILE=\d+$`, `(?m)^Restart=on-failure$`} {
		if !regexp.MustCompile(want).Match(unit) {
			t.Errorf("the unit has no line matching %s", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed; the unit's lines were checked, not the unit as systemd reads it")
	}
	dir := t.TempDir()
	text := strings.ReplaceAll(string(unit), "/opt/msgo/msgo ", binary+" ")
	text = strings.ReplaceAll(text, "User=msgo\nGroup=msgo\n", "") // no such user on a test machine
	path := filepath.Join(dir, "msgo.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// verify also reports the units this one names in After= that the
	// machine lacks (redis-server, mariadb); only lines about this unit count.
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(line, "msgo.service:") || strings.Contains(line, path) {
			problems = append(problems, line)
		}
	}
	if len(problems) > 0 {
		t.Fatalf("systemd-analyze verify (%v):\n%s", err, strings.Join(problems, "\n"))
	}
}

// TestSystemdNotify: under a Type=notify unit msgo reports READY=1 with its
// pid when it serves, and after a reload the new process reports its own, so
// systemd follows the reload. A unix datagram socket stands in for systemd.
func TestSystemdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	next := func() string {
		t.Helper()
		ln.SetReadDeadline(time.Now().Add(60 * time.Second))
		buf := make([]byte, 512)
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	in := newInstance(t, "NOTIFY_SOCKET="+sock, "MSGO_OUTSIDE_DRAIN_WINDOW=0")
	in.must("start", "-d")
	if got, want := next(), fmt.Sprintf("MAINPID=%s\nREADY=1\n", in.pid()); got != want {
		t.Fatalf("at start: %q, want %q", got, want)
	}
	old := in.pid()
	in.must("reload")
	got := next()
	if got != fmt.Sprintf("MAINPID=%s\nREADY=1\n", in.pid()) || in.pid() == old {
		t.Fatalf("after reload (pid %s -> %s): %q", old, in.pid(), got)
	}
}
