package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"msgo/config"
)

// A reloaded process finds its listeners at these fds (ExtraFiles start at 3)
// and reports readiness by writing a line to the pipe at fd 5.
const (
	inheritEnv = "MSGO_INHERITED_LISTENERS"
	readyFD    = 5
	readyWait  = 60 * time.Second
)

func reloadCmd(configDir *string) *cobra.Command {
	var drain bool
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Replace the running msgo with the binary now at its path; every client stays connected",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, pid, err := running(*configDir)
			if err != nil {
				return err
			}
			result := reloadResultFile(cfg)
			os.Remove(result)
			sig := syscall.SIGHUP
			if drain {
				sig = syscall.SIGUSR2
			}
			if err := syscall.Kill(pid, sig); err != nil {
				return fmt.Errorf("signal pid %d: %w", pid, err)
			}
			wait := readyWait + adoptWait + cfg.StopTimeout() + 5*time.Second
			deadline := time.Now().Add(wait)
			for time.Now().Before(deadline) {
				if b, err := os.ReadFile(result); err == nil && bytes.HasSuffix(b, []byte("\n")) {
					msg := strings.TrimSpace(string(b))
					rest, ok := strings.CutPrefix(msg, "ok ")
					if !ok {
						return fmt.Errorf("reload failed, pid %d keeps serving: %s", pid, strings.TrimPrefix(msg, "error "))
					}
					if f := strings.Fields(rest); len(f) == 3 {
						fmt.Printf("msgo reloaded: pid %d -> %s, %s connections handed over, pause %s ms\n", pid, f[0], f[1], f[2])
					} else {
						fmt.Printf("msgo reloaded: pid %d -> %s, clients closed with 1012 to reconnect\n", pid, rest)
					}
					return nil
				}
				time.Sleep(20 * time.Millisecond)
			}
			return fmt.Errorf("no reload result from pid %d after %s", pid, wait)
		},
	}
	cmd.Flags().BoolVar(&drain, "drain", false,
		"for a binary that cannot take the connections over: close every client with 1012 (spread over outside.drain_window) to reconnect to it")
	return cmd
}

func reloadResultFile(cfg *config.Config) string { return cfg.RuntimePath("reload.result") }

// reload starts the binary at msgo's path as a new process that inherits the
// listening sockets, and returns once it reported ready. Until this process
// closes its copies, both accept from the same sockets, so no handshake is
// refused in between.
func (n *node) reload(configDir string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	wsf, err := inheritable(n.ws)
	if err != nil {
		return 0, fmt.Errorf("listener fd: %w", err)
	}
	defer wsf.Close()
	mgrf, err := inheritable(n.mgr)
	if err != nil {
		return 0, fmt.Errorf("manager listener fd: %w", err)
	}
	defer mgrf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer pr.Close()
	args := []string{"start"}
	if configDir != "" {
		args = append(args, "--config", configDir)
	}
	c := exec.Command(exe, args...)
	c.Env = append(os.Environ(), inheritEnv+"=1")
	c.Stdin, c.Stdout, c.Stderr = nil, os.Stdout, os.Stderr
	c.ExtraFiles = []*os.File{wsf, mgrf, pw}
	if err := c.Start(); err != nil {
		pw.Close()
		return 0, fmt.Errorf("start %s: %w", exe, err)
	}
	pw.Close()
	go c.Wait() // reap it if it fails; once ready it outlives us
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(pr).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if strings.TrimSpace(s) != "ready" {
			return 0, fmt.Errorf("new process %d exited before it was ready (see its log)", c.Process.Pid)
		}
		return c.Process.Pid, nil
	case <-time.After(readyWait):
		c.Process.Kill()
		return 0, fmt.Errorf("new process %d not ready after %s", c.Process.Pid, readyWait)
	}
}

// inheritable returns a duplicate of ln's socket to pass to a child. Not
// (*net.TCPListener).File: exec calls Fd on what it passes, and Fd on a
// socket File puts the descriptor in blocking mode; the mode belongs to the
// socket, shared with the framework, which accepts on the poller and must
// never block there. A File made by os.NewFile is left as it is.
func inheritable(ln net.Listener) (*os.File, error) {
	rc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(f uintptr) { fd, dupErr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, dupErr
	}
	return os.NewFile(uintptr(fd), "listener"), nil
}

// inheritedListeners returns the listeners a reloading parent passed, if any.
func inheritedListeners() (ws, mgr net.Listener, err error) {
	if os.Getenv(inheritEnv) == "" {
		return nil, nil, nil
	}
	os.Unsetenv(inheritEnv) // our own reload children get fresh copies
	ws, err = net.FileListener(os.NewFile(3, "ws-listener"))
	if err != nil {
		return nil, nil, fmt.Errorf("inherited listener: %w", err)
	}
	mgr, err = net.FileListener(os.NewFile(4, "manager-listener"))
	if err != nil {
		ws.Close()
		return nil, nil, fmt.Errorf("inherited manager listener: %w", err)
	}
	return ws, mgr, nil
}

// notifyReady tells a reloading parent that this process serves.
func notifyReady() {
	f := os.NewFile(readyFD, "ready")
	if f == nil {
		return
	}
	f.Write([]byte("ready\n"))
	f.Close()
}

// writeReloadResult leaves the outcome for `msgo reload`: "ok" and what
// happened (the new pid; with a handoff, connections and pause), or the error.
func writeReloadResult(cfg *config.Config, ok string, err error) {
	msg := "ok " + ok
	if err != nil {
		msg = "error " + err.Error()
	}
	// Written whole, then renamed: the reader never sees half a line.
	tmp := reloadResultFile(cfg) + ".tmp"
	if os.WriteFile(tmp, []byte(msg+"\n"), 0o644) == nil {
		os.Rename(tmp, reloadResultFile(cfg))
	}
}
