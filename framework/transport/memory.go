//go:build linux

package transport

import (
	"runtime/debug"
	"time"
)

// A burst of connects leaves the garbage of its handshakes and joins in the
// heap: with no allocation after it, no GC runs, and the runtime keeps those
// pages (the heap goal is twice the live heap) for as long as the node stays
// idle, which for a node of idle connections is its normal state. So once a
// burst has settled the releaser collects and returns the free pages to the OS
// (debug.FreeOSMemory): one forced GC per burst, never more than one a tick.
const (
	// releaseMin is the smallest burst worth a forced GC: a few hundred idle
	// connections' garbage is not worth one.
	releaseMin = 1024
	// releaseShare is the smallest burst relative to the connections held
	// (1/releaseShare): on a large node a forced GC costs in proportion to
	// its live heap, so small bursts there are left to the runtime.
	releaseShare = 10
)

// releaser runs once a second: a burst has settled when a whole tick
// accepted nothing.
func (s *Server[S]) releaser() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := s.nextID.Load() // accepted when the tick before ran
	since := uint64(0)      // accepted since the last release
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		n := s.nextID.Load()
		burst := n - last
		last = n
		since += burst
		if burst == 0 && since >= releaseMin && since >= uint64(s.conns.count.Load())/releaseShare {
			debug.FreeOSMemory()
			since = 0
		}
	}
}
