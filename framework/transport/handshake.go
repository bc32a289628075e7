//go:build linux

package transport

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// Handshake rejections (docs/protocol.md, "Handshake"). No connection is registered
// when one is returned.
var (
	rejectAuth     = reject(http.StatusForbidden, "invalid or missing auth token")
	rejectOrigin   = reject(http.StatusForbidden, "origin not allowed")
	rejectPath     = reject(http.StatusNotFound, "not found")
	rejectPerIP    = reject(http.StatusTooManyRequests, "too many connections from this address")
	rejectFull     = reject(http.StatusServiceUnavailable, "server at max connections")
	rejectDraining = reject(http.StatusServiceUnavailable, "server is draining")
)

func reject(status int, reason string) error {
	return ws.RejectConnectionError(ws.RejectionStatus(status), ws.RejectionReason(reason))
}

// handshake is reusable handshake state; the Upgrader callbacks are bound to
// it once, so a handshake allocates nothing for them. Workers borrow one
// from the server's pool for each request head.
type handshake[S any] struct {
	s        *Server[S]
	up       ws.Upgrader
	head     bytes.Reader
	resp     bytes.Buffer // the Upgrader's answer: the 101 or a rejection
	peer     netip.Addr
	token    []byte
	tokens   int // tokens offered: query auth parameters and auth.* subprotocols
	origin   []byte
	agent    []byte
	realIP   []byte
	fwdFor   []byte
	pathOK   bool
	protocol bool
	session  S
	ip       *ipCount
}

func newHandshake[S any](s *Server[S]) *handshake[S] {
	h := &handshake[S]{s: s}
	h.up = ws.Upgrader{
		OnRequest:       h.onRequest,
		OnHeader:        h.onHeader,
		ProtocolCustom:  h.onProtocol,
		OnBeforeUpgrade: h.onBeforeUpgrade,
	}
	return h
}

func (h *handshake[S]) reset(peer netip.Addr) {
	h.token, h.origin, h.agent, h.realIP, h.fwdFor = h.token[:0], h.origin[:0], h.agent[:0], h.realIP[:0], h.fwdFor[:0]
	h.pathOK, h.protocol, h.tokens = false, false, 0
	h.session, h.ip = *new(S), nil
	h.peer = peer
	h.resp.Reset()
}

// readHead reads a handshaking connection's request head into c.in.pend, never
// blocking: a client that sends half a head and stalls holds no goroutine,
// only its bytes, until the sweep drops it after the handshake timeout. It
// reports whether the socket may hold more.
func (s *Server[S]) readHead(c *Conn[S]) (more bool) {
	in := c.input()
	for range maxReadsPerWake {
		if len(in.pend) == cap(in.pend) {
			if cap(in.pend) >= MaxHandshakeBytes {
				s.refuse(c, http.StatusRequestHeaderFieldsTooLarge, "handshake over 16 KiB")
				return false
			}
			in.pend = append(make([]byte, 0, min(max(2*cap(in.pend), 1024), MaxHandshakeBytes)), in.pend...)
		}
		from := max(len(in.pend)-3, 0)
		n, err := sockRead(c.fd, in.pend[len(in.pend):cap(in.pend)])
		if n > 0 {
			in.pend = in.pend[:len(in.pend)+n]
			if i := bytes.Index(in.pend[from:], []byte("\r\n\r\n")); i >= 0 {
				s.shake(c, from+i+4)
				return false
			}
			continue
		}
		if err == unix.EINTR {
			continue
		}
		if err != unix.EAGAIN {
			s.drop(c) // EOF or a socket error before the head was complete
		}
		return false
	}
	return true
}

// shake answers a complete request head: plain HTTP goes to net/http, a
// valid upgrade becomes an open connection, anything else gets its HTTP
// rejection and is dropped.
func (s *Server[S]) shake(c *Conn[S], end int) {
	head := c.in.pend[:end]
	if s.http != nil && !isUpgrade(head) && !slices.Contains(s.cfg.Paths, requestPath(head)) {
		s.handOff(c)
		return
	}
	if !bytes.HasPrefix(head, []byte("GET ")) {
		// gobwas/ws would answer 405; the protocol says any invalid upgrade is 400.
		s.refuse(c, http.StatusBadRequest, "not a valid WebSocket upgrade")
		return
	}
	h := s.shakes.Get().(*handshake[S])
	defer s.shakes.Put(h)
	h.reset(c.in.peer)
	h.head.Reset(head)
	_, err := h.up.Upgrade(struct {
		io.Reader
		io.Writer
	}{&h.head, &h.resp})
	if err != nil {
		s.metrics.handshake(rejectionLabel(err))
		if h.resp.Len() == 0 {
			// gobwas/ws returns a request line it cannot parse unanswered.
			s.refuse(c, http.StatusBadRequest, "not a valid WebSocket upgrade")
			return
		}
		c.mu.Lock()
		unix.Write(int(c.fd), h.resp.Bytes())
		c.mu.Unlock()
		s.drop(c)
		return
	}
	rest := c.in.pend[end:]
	c.setPending(nil)
	c.session, c.ip = h.session, h.ip
	if s.onAdmit != nil {
		s.admit(c, h, bytes.Clone(h.resp.Bytes()), bytes.Clone(rest))
		return
	}
	s.open(c, h.resp.Bytes())
	if len(rest) > 0 {
		// Frames the client sent right behind its request head.
		c.setPending(append([]byte(nil), rest...))
		s.schedule(c, flagRead)
	}
	s.metrics.handshake("ok")
}

// refuse answers a request msgo never hands to gobwas/ws, and drops it.
func (s *Server[S]) refuse(c *Conn[S], status int, reason string) {
	s.metrics.handshake("bad")
	s.answer(c, status, reason)
	s.drop(c)
}

// answer writes a plain HTTP answer to a request that gets no upgrade.
func (s *Server[S]) answer(c *Conn[S], status int, reason string) {
	c.mu.Lock()
	unix.Write(int(c.fd), fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(reason), reason))
	c.mu.Unlock()
}

func (h *handshake[S]) onRequest(uri []byte) error {
	path, query, _ := bytes.Cut(uri, []byte("?"))
	for _, p := range h.s.cfg.Paths {
		if string(path) == p {
			h.pathOK = true
		}
	}
	if !h.pathOK {
		return rejectPath
	}
	for len(query) > 0 {
		var kv []byte
		kv, query, _ = bytes.Cut(query, []byte("&"))
		if v, ok := bytes.CutPrefix(kv, []byte("auth=")); ok {
			if bytes.IndexByte(v, '%') >= 0 || bytes.IndexByte(v, '+') >= 0 {
				u, err := url.QueryUnescape(string(v))
				if err != nil {
					return rejectAuth
				}
				v = []byte(u)
			}
			h.token = append(h.token[:0], v...)
			h.tokens++
		}
	}
	return nil
}

func (h *handshake[S]) onHeader(key, value []byte) error {
	switch {
	case equalFold(key, "Origin"):
		h.origin = append(h.origin[:0], value...)
	case equalFold(key, "User-Agent"):
		h.agent = append(h.agent[:0], value...)
	case equalFold(key, "X-Real-Ip"):
		h.realIP = append(h.realIP[:0], value...)
	case equalFold(key, "X-Forwarded-For"):
		if len(h.fwdFor) > 0 {
			h.fwdFor = append(h.fwdFor, ',')
		}
		h.fwdFor = append(h.fwdFor, value...)
	}
	return nil
}

// onProtocol notes an offered "msgo" and takes the token from an offered
// "auth.<token>", which keeps the token out of URLs and access logs. It
// selects nothing itself, so that the upgrader shows it every
// Sec-WebSocket-Protocol header and a second token cannot hide in a later
// one; onBeforeUpgrade selects "msgo".
func (h *handshake[S]) onProtocol(v []byte) (string, bool) {
	httphead.ScanTokens(v, func(p []byte) bool {
		switch {
		case string(p) == "msgo":
			h.protocol = true
		case bytes.HasPrefix(p, []byte("auth.")):
			h.token = append(h.token[:0], p[len("auth."):]...)
			h.tokens++
		}
		return true
	})
	return "", true
}

// selectMsgo is the 101's answer to a client that offered "msgo".
var selectMsgo = ws.HandshakeHeaderString("Sec-WebSocket-Protocol: msgo\r\n")

func (h *handshake[S]) onBeforeUpgrade() (ws.HandshakeHeader, error) {
	s := h.s
	if !h.originAllowed() {
		return nil, rejectOrigin
	}
	if s.draining.Load() {
		return nil, rejectDraining
	}
	if int(s.conns.count.Load()) >= s.cfg.MaxConnections {
		return nil, rejectFull
	}
	// One token exactly: with two (two auth parameters, or one in the query
	// and one in a subprotocol) a proxy or log could check one while msgo
	// used the other.
	if len(h.token) == 0 || h.tokens != 1 {
		return nil, rejectAuth
	}
	if err := s.auth(h.token, &h.session); err != nil {
		return nil, rejectAuth
	}
	ic, ok := s.ips.acquire(h.clientIP())
	if !ok {
		return nil, rejectPerIP
	}
	h.ip = ic
	if h.protocol {
		return selectMsgo, nil
	}
	return nil, nil
}

func (h *handshake[S]) originAllowed() bool {
	allowed := h.s.cfg.AllowedOrigins
	if len(allowed) == 0 || len(h.origin) == 0 {
		return true // no allow-list, or not a browser
	}
	for _, o := range allowed {
		if strings.EqualFold(o, string(h.origin)) {
			return true
		}
	}
	return false
}

// clientIP is the peer, or, when the peer is a trusted proxy, what it says the
// client is: X-Real-IP, else the right-most X-Forwarded-For hop that is not
// itself a trusted proxy.
func (h *handshake[S]) clientIP() netip.Addr {
	if !h.s.trusted(h.peer) {
		return h.peer
	}
	if a, err := netip.ParseAddr(string(bytes.TrimSpace(h.realIP))); err == nil {
		return a.Unmap()
	}
	hops := bytes.Split(h.fwdFor, []byte(","))
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(string(bytes.TrimSpace(hops[i])))
		if err != nil {
			break
		}
		if a = a.Unmap(); !h.s.trusted(a) {
			return a
		}
	}
	return h.peer
}

func (s *Server[S]) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func equalFold(b []byte, s string) bool { return strings.EqualFold(string(b), s) }

// rejectionLabel names a refused handshake for the metrics.
func rejectionLabel(err error) string {
	switch err {
	case rejectAuth:
		return "bad_token"
	case rejectOrigin:
		return "bad_origin"
	case rejectPath:
		return "not_found"
	case rejectPerIP:
		return "per_ip_limit"
	case rejectFull:
		return "full"
	case rejectDraining:
		return "draining"
	}
	return "bad"
}

// ipLimiter counts connections per client address.
type ipLimiter struct {
	max   int
	track bool // keep every connection's address, even with no limit (a Backend is told it)
	mu    sync.Mutex
	n     map[netip.Addr]*ipCount
}

// ipCount is one client address's count. A connection keeps a pointer to
// its address's count (8 bytes) rather than the address (24).
type ipCount struct {
	addr netip.Addr
	n    int32
}

// acquire counts a connection from a and returns its count, nil when there
// is no limit and no tracking; false when a is at the limit.
func (l *ipLimiter) acquire(a netip.Addr) (*ipCount, bool) {
	if l.max <= 0 && !l.track {
		return nil, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = make(map[netip.Addr]*ipCount)
	}
	ic := l.n[a]
	if ic == nil {
		ic = &ipCount{addr: a}
		l.n[a] = ic
	}
	if l.max > 0 && int(ic.n) >= l.max {
		return nil, false
	}
	ic.n++
	return ic, true
}

func (l *ipLimiter) release(ic *ipCount) {
	if ic == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ic.n--; ic.n <= 0 {
		delete(l.n, ic.addr)
	}
}
