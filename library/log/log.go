package log

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"

	"msgo/config"
)

// Size-based rotation of the log file: at most 1 + MaxBackups files of
// MaxFileMB each, so logs stay under a known bound of disk.
const (
	MaxFileMB  = 100
	MaxBackups = 7
)

// New returns a logger configured by c. With c.File set it writes to that
// file (relative to runtimeDir unless absolute), rotated at MaxFileMB and
// keeping MaxBackups old files; otherwise to standard error. Close the
// returned Closer at exit; for standard error it does nothing.
func New(c config.Log, runtimeDir string) (*slog.Logger, io.Closer, error) {
	level, err := c.SlogLevel()
	if err != nil {
		return nil, nil, fmt.Errorf("log: %w", err)
	}
	var (
		w      io.Writer = os.Stderr
		closer io.Closer = nopCloser{}
	)
	if c.File != "" {
		path := c.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(runtimeDir, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, nil, fmt.Errorf("log: %w", err)
		}
		// lumberjack opens a file that exists with O_APPEND, but creates a
		// missing one without it: created here first, every write lands at
		// the end even when two processes write the file at once (the old
		// and the new process of a reload).
		if err := touch(path); err != nil {
			return nil, nil, fmt.Errorf("log: %w", err)
		}
		f := &lumberjack.Logger{Filename: path, MaxSize: MaxFileMB, MaxBackups: MaxBackups}
		// lumberjack opens the file on the first write; an empty write opens
		// it now, so a file that cannot be written fails the start, not the
		// first log line.
		if _, err := f.Write(nil); err != nil {
			return nil, nil, fmt.Errorf("log: %w", err)
		}
		w, closer = f, f
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch c.Format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, nil, fmt.Errorf("log: unknown format %q", c.Format)
	}
	return slog.New(h), closer, nil
}

func touch(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
