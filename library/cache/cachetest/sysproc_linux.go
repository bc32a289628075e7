package cachetest

import "syscall"

// sysProcAttr has the kernel kill redis-server if the test binary dies
// first, so a crashed test run leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
