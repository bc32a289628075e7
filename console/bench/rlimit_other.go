//go:build !unix

package bench

// fdLimit is unknown off Unix; the dialer's errors will say when it is hit.
func fdLimit() (uint64, bool) { return 0, false }
