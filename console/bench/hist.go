package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts latencies in log-linear buckets: 64 linear steps per power
// of two, so every quantile is within 1/64 (1.6%) of the true value, from 1 ns
// to hours, in a fixed 30 KiB. Recording is a few atomic adds, so reader
// goroutines of every connection share one histogram without a lock.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const (
	histSub     = 64 // linear steps per power of two
	histShift   = 6  // log2(histSub)
	histBuckets = (64 - histShift) * histSub
)

func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histShift - 1 // v>>shift is in [64, 128)
	return (shift+1)*histSub + int(v>>shift) - histSub
}

// bucketMid returns the middle of bucket i's value range.
func bucketMid(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	lo := uint64(i%histSub+histSub) << shift
	return lo + (uint64(1)<<shift)/2
}

// record adds one latency; negative ones (clock steps) count as zero.
func (h *histogram) record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// count returns how many latencies were recorded.
func (h *histogram) count() uint64 { return h.n.Load() }

// quantile returns the q-quantile (0 < q <= 1), or 0 when nothing was recorded.
// The maximum is exact; other quantiles are bucket midpoints capped at it.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketMid(i)), time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// maximum returns the largest latency recorded.
func (h *histogram) maximum() time.Duration { return time.Duration(h.max.Load()) }
