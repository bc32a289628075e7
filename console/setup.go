package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"gorm.io/gorm"

	"msgo/config"
	"msgo/framework"
	"msgo/library/cache"
	"msgo/library/db"
	"msgo/library/encrypt"
	mlog "msgo/library/log"
)

// loadConfig reads the configuration and makes sure a secret and a node id
// exist. log is nil for commands that only read.
func loadConfig(dir string, log *slog.Logger) (*config.Config, error) {
	cfg, err := config.Load(dir, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	generated, err := config.EnsureSecret(cfg)
	if err != nil {
		return nil, err
	}
	if generated && log != nil {
		log.Info("generated an auth secret; PHP backends minting tokens need it", "file", cfg.RuntimePath(config.SecretFile))
	}
	config.EnsureNodeID(cfg)
	return cfg, nil
}

func newLogger(cfg *config.Config) (*slog.Logger, io.Closer, error) {
	return mlog.New(cfg.Log, cfg.RuntimeDir)
}

func openStore(cfg *config.Config) (cache.Store, error) {
	switch cfg.Cache.Driver {
	case "redis":
		r := cfg.Cache.Redis
		return cache.NewRedis(cache.RedisOptions{Addr: r.Addr, Password: r.Password, DB: r.DB, Prefix: r.Prefix})
	default:
		return cache.NewMemory(), nil
	}
}

func openDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*gorm.DB, error) {
	return db.Open(ctx, db.Options{
		Driver:          cfg.DB.Driver,
		DSN:             cfg.DBDSN(),
		MaxOpenConns:    cfg.DB.MaxOpenConns,
		MaxIdleConns:    cfg.DB.MaxIdleConns,
		ConnMaxLifetime: cfg.ConnMaxLifetime(),
		Logger:          log,
	})
}

func codec(cfg *config.Config) *encrypt.Codec { return encrypt.New(cfg.Auth.Secret, cfg.TokenTTL()) }

// authenticator checks tokens for the framework; the token never reaches a log.
func authenticator(c *encrypt.Codec) framework.Authenticator {
	return func(token []byte) (framework.Identity, error) {
		cl, err := c.Parse(token)
		if err != nil {
			return framework.Identity{}, err
		}
		return framework.Identity{ID: cl.ID, Type: cl.Type, Code: cl.Code, Nickname: cl.Nickname}, nil
	}
}

func frameworkConfig(cfg *config.Config) (framework.Config, error) {
	o := cfg.Outside
	var proxies []netip.Prefix
	for _, p := range o.TrustedProxies {
		if pr, err := netip.ParsePrefix(p); err == nil {
			proxies = append(proxies, pr)
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return framework.Config{}, fmt.Errorf("outside.trusted_proxies: %q: %w", p, err)
		}
		proxies = append(proxies, netip.PrefixFrom(a, a.BitLen()))
	}
	return framework.Config{
		NodeID:           cfg.NodeID,
		Paths:            o.Paths,
		IdleTimeout:      cfg.IdleTimeout(),
		MaxFrameSize:     o.MaxFrameSize,
		MaxMessageSize:   o.MaxMessageSize,
		RateLimit:        o.RateLimit,
		MaxConnections:   o.MaxConnections,
		MaxConnsPerIP:    o.MaxConnsPerIP,
		AllowedOrigins:   o.AllowedOrigins,
		TrustedProxies:   proxies,
		WriteQueueBytes:  o.WriteQueueBytes,
		Workers:          o.Workers,
		HandshakeTimeout: cfg.HandshakeTimeout(),
		StopTimeout:      cfg.StopTimeout(),
		DrainWindow:      cfg.DrainWindow(),
	}, nil
}

// pidFile is where the serving process records its pid.
func pidFile(cfg *config.Config) string { return cfg.RuntimePath("msgo.pid") }

func writePid(path string, pid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", pid)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

var errNotRunning = errors.New("msgo is not running")

// running returns the configuration and the pid of the msgo it names, or an
// error wrapping errNotRunning that says why and what to do.
func running(configDir string) (*config.Config, int, error) {
	cfg, err := loadConfig(configDir, nil)
	if err != nil {
		return nil, 0, err
	}
	path := pidFile(cfg)
	pid, err := readPid(path)
	if errors.Is(err, errNotRunning) {
		return nil, 0, notRunning("no pid file at " + path)
	}
	if err != nil {
		return nil, 0, err
	}
	if !alive(pid) {
		return nil, 0, notRunning(fmt.Sprintf("the pid file %s names pid %d, which has exited", path, pid))
	}
	return cfg, pid, nil
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, errNotRunning
		}
		return 0, err
	}
	var pid int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d", &pid); err != nil || pid <= 0 {
		return 0, fmt.Errorf("bad pid file %s", path)
	}
	return pid, nil
}

// loopbackURL turns a listen address into one a local client can dial.
func loopbackHost(listen string) string {
	host, port, ok := strings.Cut(listen, ":")
	if i := strings.LastIndex(listen, ":"); i >= 0 {
		host, port, ok = listen[:i], listen[i+1:], true
	}
	if !ok {
		return listen
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return host + ":" + port
}
