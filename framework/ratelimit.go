package framework

import "time"

// bucket is a token bucket of rate messages per second with a burst of rate,
// kept in 8 bytes because every connection has one. It is touched only by the
// connection's worker.
type bucket struct {
	tokens float32
	last   uint32 // ms since the server started; 0 = never used
}

func (b *bucket) allow(rate int, nowMS uint32) bool {
	if rate <= 0 {
		return true
	}
	if b.last == 0 {
		b.tokens = float32(rate)
	} else if nowMS > b.last {
		b.tokens += float32(nowMS-b.last) * float32(rate) / 1000
		if b.tokens > float32(rate) {
			b.tokens = float32(rate)
		}
	}
	b.last = max(nowMS, 1)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (s *Server) nowMS() uint32 { return uint32(time.Since(s.started) / time.Millisecond) }

// routeAllow applies a route's own limit; the limiters exist only on
// connections that called such a route.
func (c *conn) routeAllow(index, rate int) bool {
	in := c.input()
	if in.routeBuckets == nil {
		in.routeBuckets = make([]bucket, c.srv.router.limited)
	}
	return in.routeBuckets[index].allow(rate, c.srv.nowMS())
}
