package main

import (
	"net"
	"testing"
	"time"
)

// An IPv4 listen address takes IPv4 connections only; "[::]" takes both.
func TestListenBindsTheFamilyNamed(t *testing.T) {
	reaches := func(ln net.Listener, host string) bool {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 2*time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	v6 := func() bool {
		ln, err := net.Listen("tcp6", "[::1]:0")
		if err == nil {
			ln.Close()
		}
		return err == nil
	}()
	for _, c := range []struct {
		addr       string
		ipv4, ipv6 bool
	}{
		{"0.0.0.0:0", true, false},
		{"127.0.0.1:0", true, false},
		{"[::]:0", true, true},
		{"[::1]:0", false, true},
	} {
		if c.addr[0] == '[' && !v6 {
			continue // no IPv6 on this machine
		}
		ln, err := listenTCP(c.addr)
		if err != nil {
			t.Fatalf("listen %s: %v", c.addr, err)
		}
		if got := reaches(ln, "127.0.0.1"); got != c.ipv4 {
			t.Errorf("listen %s: IPv4 client connects %v, want %v", c.addr, got, c.ipv4)
		}
		if v6 {
			if got := reaches(ln, "::1"); got != c.ipv6 {
				t.Errorf("listen %s: IPv6 client connects %v, want %v", c.addr, got, c.ipv6)
			}
		}
		ln.Close()
	}
}
