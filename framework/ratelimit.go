package framework

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

// routeAllow applies a route's own limit to c; the limiters exist only on
// connections that called such a route. A connection whose close began is
// not limited: nothing it sends is answered any more.
func (s *Server) routeAllow(c *conn, index, rate int) bool {
	var h *hooks
	c.Edit(func(ss *session, open bool) {
		if open {
			h = hooksOf(ss)
		}
	})
	if h == nil {
		return true
	}
	if h.routes == nil {
		h.routes = make([]bucket, s.router.limited)
	}
	return h.routes[index].allow(rate, s.nowMS())
}
