package transport

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSockAccept: the raw accept reads the peer's address, and a socket
// accepted from a listener with TCP_NODELAY has it too (Serve relies on it).
func TestSockAccept(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			want := netip.MustParseAddr("127.0.0.1")
			if network == "tcp6" {
				addr, want = "[::1]:0", netip.MustParseAddr("::1")
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			defer ln.Close()
			f, err := ln.(*net.TCPListener).File()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			lfd := int(f.Fd())
			if err := unix.SetNonblock(lfd, true); err != nil {
				t.Fatal(err)
			}
			if err := unix.SetsockoptInt(lfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
				t.Fatal(err)
			}
			if _, _, err := sockAccept(lfd); err != unix.EAGAIN {
				t.Fatalf("accept with nothing pending: %v, want EAGAIN", err)
			}
			c, err := net.Dial(network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			deadline := time.Now().Add(5 * time.Second)
			fd, peer, err := sockAccept(lfd)
			for err == unix.EAGAIN && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
				fd, peer, err = sockAccept(lfd)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if peer != want {
				t.Errorf("peer %v, want %v", peer, want)
			}
			if v, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY); err != nil || v == 0 {
				t.Errorf("accepted socket's TCP_NODELAY = %d (%v), want it inherited", v, err)
			}
			if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
				t.Errorf("accepted socket blocks (flags %#x, %v)", fl, err)
			}
		})
	}
}
