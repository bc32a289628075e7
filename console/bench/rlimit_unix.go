//go:build unix

package bench

import "syscall"

// fdLimit returns the soft limit on open files. Go raises the soft limit to
// the hard one at start, so this is what the process can really open.
func fdLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}
