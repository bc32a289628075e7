package main

import (
	"fmt"
	"net"
	"os"
)

// systemdReady tells systemd (a Type=notify unit) that this process serves
// and is the service's main process. After a reload the new process says
// so, so that systemd follows it rather than the old one, which then exits
// (the unit sets NotifyAccess=all, since the new process is not yet the main
// one when it writes). Without NOTIFY_SOCKET it does nothing.
func systemdReady() error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] == '@' { // an abstract socket
		addr = "\x00" + addr[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("systemd notify socket: %w", err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "MAINPID=%d\nREADY=1\n", os.Getpid()); err != nil {
		return fmt.Errorf("systemd notify: %w", err)
	}
	return nil
}
