package main

import (
	"net"
	"net/netip"
)

// listenTCP listens on addr in exactly the address family it names: an IPv4
// address (0.0.0.0 included) binds IPv4 only, an IPv6 one IPv6 (and "[::]"
// both families, as the kernel's dual-stack socket does), and an empty host
// or a host name whatever Go picks for it. Plain net.Listen("tcp",
// "0.0.0.0:9501") would also take IPv6 connections, which a firewall
// written for the IPv4 address the operator named does not expect.
func listenTCP(addr string) (net.Listener, error) {
	return net.Listen(listenNetwork(addr), addr)
}

func listenNetwork(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "tcp" // net.Listen reports the bad address
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
		return "tcp4"
	}
	return "tcp"
}
