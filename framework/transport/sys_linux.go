package transport

import (
	"net/netip"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket reads and writes, and the poller's epoll_wait (never with a
// timeout), are raw system calls: every socket here is
// non-blocking, so a call returns as soon as the kernel has copied what it
// can, and telling the scheduler about it (as a blocking call must, so that
// another thread can take over the goroutine's processor) costs more than
// the call: on a request's path it was most of the runtime's share, and it
// woke the runtime's monitor thread to take processors back from calls that
// were about to return anyway.

func sockRead(fd int32, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return result(n, errno)
}

func sockWrite(fd int32, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return result(n, errno)
}

// iovecs lends writev's vectors (iovMax of them, 16 KiB) to a writer.
var iovecs = sync.Pool{New: func() any { return new([iovMax]unix.Iovec) }}

// sockWritev writes up to iovMax of bufs with one writev.
func sockWritev(fd int32, bufs [][]byte) (int, error) {
	arr := iovecs.Get().(*[iovMax]unix.Iovec)
	defer iovecs.Put(arr)
	iov := arr[:0]
	for _, b := range bufs[:min(len(bufs), iovMax)] {
		if len(b) > 0 {
			iov = append(iov, unix.Iovec{Base: &b[0], Len: uint64(len(b))})
		}
	}
	if len(iov) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	clear(iov) // no pointers into frames stay in the pool
	return result(n, errno)
}

func result(n uintptr, errno unix.Errno) (int, error) {
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// epollPoll takes the events that wait, without waiting (a zero timeout).
func epollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	return result(n, errno)
}

// sockAccept accepts a connection from the non-blocking listening socket
// lfd, non-blocking and close-on-exec, and returns the peer's address. It
// reads the address itself: x/sys's Accept4 asks the socket for its
// protocol (a getsockopt) on every call, and allocates the address.
func sockAccept(lfd int) (int, netip.Addr, error) {
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	fd, _, errno := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(lfd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n)),
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, netip.Addr{}, errno
	}
	switch rsa.Addr.Family {
	case unix.AF_INET:
		return int(fd), netip.AddrFrom4((*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa)).Addr), nil
	case unix.AF_INET6:
		return int(fd), netip.AddrFrom16((*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa)).Addr).Unmap(), nil
	}
	return int(fd), netip.Addr{}, nil
}
