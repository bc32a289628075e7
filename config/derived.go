package config

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// RuntimePath returns name inside the runtime directory; an absolute name is
// returned as it is.
func (c *Config) RuntimePath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(c.RuntimeDir, name)
}

// DBDSN returns the database DSN, <runtime_dir>/msgo.db for SQLite when none
// is set.
func (c *Config) DBDSN() string {
	if c.DB.DSN == "" && c.DB.Driver == "sqlite" {
		return c.RuntimePath("msgo.db")
	}
	return c.DB.DSN
}

// IdleTimeout is outside.heartbeat_idle_time as a duration.
func (c *Config) IdleTimeout() time.Duration { return seconds(c.Outside.HeartbeatIdleTime) }

// HandshakeTimeout is outside.handshake_timeout as a duration.
func (c *Config) HandshakeTimeout() time.Duration { return seconds(c.Outside.HandshakeTimeout) }

// StopTimeout is outside.stop_timeout as a duration.
func (c *Config) StopTimeout() time.Duration { return seconds(c.Outside.StopTimeout) }

// DrainWindow is outside.drain_window as a duration.
func (c *Config) DrainWindow() time.Duration { return seconds(c.Outside.DrainWindow) }

// ResumeWindow is outside.resume_window as a duration.
func (c *Config) ResumeWindow() time.Duration { return seconds(c.Outside.ResumeWindow) }

// TokenTTL is auth.ttl as a duration.
func (c *Config) TokenTTL() time.Duration { return seconds(c.Auth.TTL) }

// ConnMaxLifetime is db.conn_max_lifetime as a duration.
func (c *Config) ConnMaxLifetime() time.Duration { return seconds(c.DB.ConnMaxLifetime) }

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// SlogLevel returns the slog level named by l.Level (debug, info, warn or
// error, in any case).
func (l Log) SlogLevel() (slog.Level, error) {
	switch strings.ToLower(l.Level) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("config: unknown log level %q", l.Level)
}
