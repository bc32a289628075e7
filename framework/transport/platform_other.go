//go:build !linux

package transport

// The transport drives its sockets with Linux's epoll and accept4 (see the
// _linux.go files and the files built only on Linux); no other system has a
// poller yet. On one, the build stops here with this name as its reason.
var _ = transportNeedsLinuxEpoll
