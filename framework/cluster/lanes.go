package cluster

import (
	"sync"
	"sync/atomic"
)

// reassertLanes is how many store calls a reassert has in flight at once:
// enough to hide round trips, few enough to leave the store's connection
// pool to the requests being served meanwhile.
const reassertLanes = 8

// inLanes calls fn(0..n-1) on up to lanes goroutines and returns the first
// error; after an error no new call starts.
func inLanes(n, lanes int, fn func(i int) error) error {
	var (
		next  atomic.Int64
		first atomic.Pointer[error]
		wg    sync.WaitGroup
	)
	for range min(n, lanes) {
		wg.Go(func() {
			for first.Load() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return *e
	}
	return nil
}
