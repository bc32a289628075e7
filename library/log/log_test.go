package log

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"msgo/config"
)

func TestFileJSON(t *testing.T) {
	dir := t.TempDir()
	logger, closer, err := New(config.Log{Level: "warn", Format: "json", File: "logs/msgo.log"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("dropped")
	logger.Warn("kept", "fd", 7)
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "logs", "msgo.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 1 {
		t.Fatalf("log holds %q, want only the warning", data)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["msg"] != "kept" || rec["level"] != "WARN" || rec["fd"] != 7.0 {
		t.Fatalf("record = %v", rec)
	}
}

func TestAbsoluteFileText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "abs.log")
	logger, closer, err := New(config.Log{Level: "debug", Format: "text", File: path}, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	logger.Debug("hello", "k", "v")
	closer.Close()
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "level=DEBUG msg=hello k=v") {
		t.Fatalf("log = %q", data)
	}
}

func TestStderrAndErrors(t *testing.T) {
	logger, closer, err := New(config.Default().Log, "")
	if err != nil || logger == nil || closer.Close() != nil {
		t.Fatalf("stderr logger: %v", err)
	}
	if _, _, err := New(config.Log{Level: "loud", Format: "text"}, ""); err == nil {
		t.Error("bad level accepted")
	}
	if _, _, err := New(config.Log{Level: "info", Format: "xml"}, ""); err == nil {
		t.Error("bad format accepted")
	}
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	if _, _, err := New(config.Log{Level: "info", File: "x.log"}, blocker); err == nil {
		t.Error("log file under a regular file accepted")
	}
}
