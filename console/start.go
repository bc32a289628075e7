package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"msgo/app"
	"msgo/app/web"
	"msgo/config"
	"msgo/framework"
	"msgo/framework/manager"
	"msgo/framework/proxy"
	"msgo/library/cache"
	"msgo/library/db"
)

const daemonEnv = "MSGO_DAEMON_CHILD"

func startCmd(configDir *string) *cobra.Command {
	var daemon bool
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start msgo in the foreground (or -d: as a daemon with pid and log files in the runtime dir)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if daemon && os.Getenv(daemonEnv) == "" {
				return daemonize(*configDir)
			}
			return run(*configDir)
		},
	}
	cmd.Flags().BoolVarP(&daemon, "daemon", "d", false, "run in the background")
	return cmd
}

// daemonize starts this binary again detached, logging to the runtime dir,
// and returns once it is serving (its pid file names it) or has failed.
func daemonize(configDir string) error {
	cfg, err := loadConfig(configDir, nil)
	if err != nil {
		return err
	}
	if pid, err := readPid(pidFile(cfg)); err == nil && alive(pid) {
		return fmt.Errorf("msgo is already running as pid %d; see msgo status, or stop it with msgo stop", pid)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.RuntimeDir, 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(cfg.RuntimePath("msgo.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	args := []string{"start"}
	if configDir != "" {
		args = append(args, "--config", configDir)
	}
	c := exec.Command(exe, args...)
	c.Env = append(os.Environ(), daemonEnv+"=1")
	c.Stdout, c.Stderr = out, out
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	deadline := time.After(30 * time.Second)
	for {
		if pid, err := readPid(pidFile(cfg)); err == nil && pid == c.Process.Pid {
			fmt.Printf("msgo started as pid %d\n%s\n", pid, logsWhere(cfg))
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("daemon exited during start (%v); see %s", err, cfg.RuntimePath("msgo.out"))
		case <-deadline:
			return fmt.Errorf("daemon not ready after 30s; see %s", cfg.RuntimePath("msgo.out"))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logsWhere says where a daemon's log lines go, as absolute paths: the
// log.file when one is set, else the output file the daemon writes to.
func logsWhere(cfg *config.Config) string {
	out := absPath(cfg.RuntimePath("msgo.out"))
	if cfg.Log.File == "" {
		return "log: " + out
	}
	return fmt.Sprintf("log: %s (log.file); output before logging starts, and crashes: %s", absPath(cfg.RuntimePath(cfg.Log.File)), out)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// run serves until SIGTERM or SIGINT, then stops gracefully: no new
// connections, 1001 to every client, in-flight handlers finish.
func run(configDir string) error {
	boot := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := loadConfig(configDir, boot)
	if err != nil {
		return err
	}
	log, logCloser, err := newLogger(cfg)
	if err != nil {
		return err
	}
	defer logCloser.Close()
	n, err := newNode(cfg, log)
	if err != nil {
		log.Error("start failed", "err", err)
		return err
	}
	// Before anything else can stop us: SIGHUP's default would kill us.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR2)
	handoff := os.Getenv(handoffEnv) != ""
	var took reloadReport
	if handoff {
		os.Unsetenv(handoffEnv)
		if took, err = n.adopt(); err != nil {
			log.Error("reload: could not take the connections over; the old process serves on", "err", err)
			// Not n.close: the store's entries and the sockets are the old
			// process's, and leaving the cluster would remove them.
			logCloser.Close()
			os.Exit(1)
		}
	}
	if err := writePid(pidFile(cfg), os.Getpid()); err != nil {
		n.close()
		return fmt.Errorf("write pid file: %w", err)
	}
	defer removePid(pidFile(cfg), os.Getpid())
	n.serve()
	log.Info("msgo started", "node", cfg.NodeID, "listen", n.ws.Addr().String(), "manager", n.mgr.Addr().String(),
		"cache", cfg.Cache.Driver, "db", cfg.DB.Driver, "pid", os.Getpid(), "version", version)

	// systemd learns the new main pid before the reloading parent starts
	// to drain and exit.
	if err := systemdReady(); err != nil {
		log.Warn("could not tell systemd this process is ready", "err", err)
	}
	switch {
	case handoff:
		log.Info("reload: took the connections over", append([]any{"connections", took.conns, "pause", took.pause}, took.phases...)...)
		writeReloadResult(cfg, took.String(), nil)
		took.serving()
	case n.inherited:
		notifyReady()
	}

	for sig := range sigs {
		if sig == syscall.SIGHUP {
			log.Info("reloading: handing the connections over", "signal", sig.String())
			if err := n.handOver(configDir); err != nil {
				writeReloadResult(cfg, "", err)
				log.Error("reload failed; this process keeps serving", "err", err)
				continue
			}
			n.leave()
			return nil
		}
		if sig == syscall.SIGUSR2 {
			log.Info("reloading: draining", "signal", sig.String())
			pid, err := n.reload(configDir)
			writeReloadResult(cfg, strconv.Itoa(pid), err)
			if err != nil {
				log.Error("reload failed; this process keeps serving", "err", err)
				continue
			}
			log.Info("new process is ready; draining", "new_pid", pid, "window", cfg.DrainWindow())
			n.shutdown(framework.CloseServiceRestart, cfg.DrainWindow())
			log.Info("handed over", "new_pid", pid)
			return nil
		}
		log.Info("stopping", "signal", sig.String())
		n.shutdown(framework.CloseGoingAway, 0)
		log.Info("stopped")
		return nil
	}
	return nil
}

// node is one running msgo: listeners, server, manager, dependencies.
type node struct {
	cfg         *config.Config
	log         *slog.Logger
	store       cache.Store
	srv         *framework.Server
	ws, mgr     net.Listener
	inherited   bool // the listeners came from a reloading parent
	http        *http.Server
	manager     *manager.Manager
	held        *heldListener // the manager's listener, paused by a reload
	stopApps    func()
	closeDB     func()
	proxy       *proxy.Proxy // nil without proxy.endpoint
	closeEvents func()
	served      chan struct{}
}

func newNode(cfg *config.Config, log *slog.Logger) (_ *node, err error) {
	n := &node{cfg: cfg, log: log, served: make(chan struct{})}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	if err := manager.CheckBind(cfg.Manager.Listen, cfg.Manager.Token); err != nil {
		return nil, err
	}
	fcfg, err := frameworkConfig(cfg)
	if err != nil {
		return nil, err
	}
	if n.store, err = openStore(cfg); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gdb, err := openDB(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	n.closeDB = func() { db.Close(gdb) }
	if cfg.DB.AutoMigrate {
		if err := db.Migrate(ctx, gdb, models()...); err != nil {
			log.Warn("automatic migration failed; run `msgo migrate` once the database is up", "err", err)
		}
	}
	r := framework.NewRouter()
	r.Use(framework.AccessLog(log))
	if n.stopApps, err = app.Register(r, app.Deps{DB: gdb, Config: cfg, Log: log}); err != nil {
		return nil, fmt.Errorf("register modules: %w", err)
	}
	px, closeEvents, err := newProxy(cfg, gdb, r.Routes(), log)
	if err != nil {
		return nil, err
	}
	n.closeEvents = closeEvents
	tokens := codec(cfg)
	pages, err := web.NewHandler(web.Options{
		Pages:  app.Pages(),
		Verify: func(tok string) error { _, err := tokens.Parse([]byte(tok)); return err },
	})
	if err != nil {
		return nil, fmt.Errorf("web pages: %w", err)
	}
	n.srv, err = framework.New(framework.Options{
		Config:       fcfg,
		Router:       r,
		Store:        n.store,
		Authenticate: authenticator(tokens),
		Logger:       log,
		Unavailable:  []error{db.ErrUnavailable},
		HTTP:         pages,
		Backend:      backendOf(px),
		TakingOver:   os.Getenv(handoffEnv) != "",
	})
	if err != nil {
		return nil, err
	}
	if px != nil {
		n.srv.Metrics().Registry.MustRegister(px.Collectors()...)
		px.Start(context.Background())
		n.proxy = px
	}
	if err := n.listen(); err != nil {
		return nil, err
	}
	ready := func(ctx context.Context) error {
		if err := n.store.Ping(ctx); err != nil {
			return err
		}
		return db.Ping(ctx, gdb)
	}
	n.manager = managerHandler(n.srv, cfg, ready, log)
	return n, nil
}

// serve starts accepting on both ports.
func (n *node) serve() {
	n.serveManager()
	go func() { n.srv.Serve(n.ws); close(n.served) }()
}

// serveManager serves the manager port.
func (n *node) serveManager() {
	n.held = newHeldListener(n.mgr.(*net.TCPListener))
	n.http = &http.Server{Handler: n.held.handler(n.manager), ReadHeaderTimeout: 5 * time.Second, ConnState: n.held.track}
	go n.http.Serve(n.held)
}

// leave releases what this process holds after it handed its connections
// over: modules finish their writes, the database closes. Not the server:
// the connections and the store's entries are the new process's now, and
// exiting closes this process's copies of the sockets without a shutdown.
func (n *node) leave() {
	if n.proxy != nil {
		n.proxy.Stop() // what the backend is still owed is sent
	}
	if n.closeEvents != nil {
		n.closeEvents()
	}
	if n.stopApps != nil {
		n.stopApps()
	}
	if n.closeDB != nil {
		n.closeDB()
	}
}

// listen takes the listeners a reloading parent passed, or opens them.
func (n *node) listen() (err error) {
	if n.ws, n.mgr, err = inheritedListeners(); err != nil || n.ws != nil {
		n.inherited = n.ws != nil
		return err
	}
	if n.ws, err = listenTCP(n.cfg.Outside.Listen); err != nil {
		return fmt.Errorf("listen %s: %w", n.cfg.Outside.Listen, err)
	}
	if n.mgr, err = listenTCP(n.cfg.Manager.Listen); err != nil {
		return fmt.Errorf("listen manager %s: %w", n.cfg.Manager.Listen, err)
	}
	return nil
}

// shutdown stops accepting, closes clients with code spread over spread,
// waits for handlers, then releases dependencies.
func (n *node) shutdown(code int, spread time.Duration) {
	n.ws.Close()
	// Stop taking manager calls too: after a reload the new process, which
	// shares the socket, answers them while this one drains.
	n.mgr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.StopTimeout()+5*time.Second)
	defer cancel()
	n.srv.Stop(ctx, code, spread)
	<-n.served
	if n.proxy != nil {
		n.proxy.Stop() // after the server: every close is recorded
		n.proxy = nil
	}
	n.http.Shutdown(ctx)
	n.close()
}

// close releases what newNode opened, in reverse order.
func (n *node) close() {
	if n.srv != nil && n.http == nil {
		// Built but never served: stop its workers and leave the cluster.
		n.srv.Stop(context.Background(), framework.CloseGoingAway, 0)
	}
	if n.mgr != nil {
		n.mgr.Close()
	}
	if n.ws != nil {
		n.ws.Close()
	}
	if n.proxy != nil {
		n.proxy.Stop()
	}
	if n.closeEvents != nil {
		n.closeEvents()
	}
	if n.stopApps != nil {
		n.stopApps()
	}
	if n.closeDB != nil {
		n.closeDB()
	}
	if n.store != nil {
		n.store.Close()
	}
}

func removePid(path string, pid int) {
	if p, err := readPid(path); err == nil && p == pid {
		os.Remove(path)
	}
}

// alive reports whether a process with pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
