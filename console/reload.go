package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
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
	return &cobra.Command{
		Use:   "reload",
		Short: "Restart onto the binary now at msgo's path without refusing a handshake",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, pid, err := running(*configDir)
			if err != nil {
				return err
			}
			result := reloadResultFile(cfg)
			os.Remove(result)
			if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
				return fmt.Errorf("signal pid %d: %w", pid, err)
			}
			deadline := time.Now().Add(readyWait + 5*time.Second)
			for time.Now().Before(deadline) {
				if b, err := os.ReadFile(result); err == nil {
					msg := strings.TrimSpace(string(b))
					if rest, ok := strings.CutPrefix(msg, "ok "); ok {
						fmt.Printf("msgo reloaded: pid %d -> %s\n", pid, rest)
						return nil
					}
					return fmt.Errorf("reload failed, pid %d keeps serving: %s", pid, msg)
				}
				time.Sleep(50 * time.Millisecond)
			}
			return fmt.Errorf("no reload result from pid %d after %s", pid, readyWait)
		},
	}
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

func writeReloadResult(cfg *config.Config, newPid int, err error) {
	msg := "ok " + strconv.Itoa(newPid)
	if err != nil {
		msg = "error " + err.Error()
	}
	os.WriteFile(reloadResultFile(cfg), []byte(msg+"\n"), 0o644)
}
