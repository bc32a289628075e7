package framework

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
)

// Handshake rejections (PROTOCOL.md section 2). No connection state exists yet
// when one is returned.
var errTooLarge = errors.New("handshake over 16 KiB")

var (
	rejectAuth      = reject(http.StatusForbidden, "invalid or missing auth token")
	rejectOrigin    = reject(http.StatusForbidden, "origin not allowed")
	rejectPath      = reject(http.StatusNotFound, "not found")
	rejectPerIP     = reject(http.StatusTooManyRequests, "too many connections from this address")
	rejectFull      = reject(http.StatusServiceUnavailable, "server at max connections")
	rejectResources = reject(http.StatusServiceUnavailable, "server out of resources")
	rejectDraining  = reject(http.StatusServiceUnavailable, "server is draining")
)

func reject(status int, reason string) error {
	return ws.RejectConnectionError(ws.RejectionStatus(status), ws.RejectionReason(reason))
}

// handshake is one handshake worker's reusable state; the Upgrader callbacks
// are bound to it once, so a handshake allocates nothing for them.
type handshake struct {
	s        *Server
	up       ws.Upgrader
	buf      []byte
	head     bytes.Reader
	peer     netip.Addr
	token    []byte
	origin   []byte
	realIP   []byte
	fwdFor   []byte
	pathOK   bool
	protocol bool
	ident    identity
	ip       ipKey
	nc       net.Conn // the connection being upgraded, for Write
	answered bool     // the Upgrader wrote its answer
	conn     *conn    // registered before the 101, started after it
}

// Write is the Upgrader's writer: it records that an answer went out.
func (h *handshake) Write(p []byte) (int, error) {
	h.answered = true
	return h.nc.Write(p)
}

func (s *Server) handshaker() {
	h := &handshake{s: s, buf: make([]byte, MaxHandshakeBytes)}
	h.up = ws.Upgrader{
		OnRequest:       h.onRequest,
		OnHeader:        h.onHeader,
		ProtocolCustom:  h.onProtocol,
		OnBeforeUpgrade: h.onBeforeUpgrade,
	}
	for {
		select {
		case nc := <-s.shakes:
			h.serve(nc)
			s.pending.Done()
		case <-s.ctx.Done():
			return
		}
	}
}

func (h *handshake) reset(nc net.Conn) {
	h.token, h.origin, h.realIP, h.fwdFor = h.token[:0], h.origin[:0], h.realIP[:0], h.fwdFor[:0]
	h.pathOK, h.protocol = false, false
	h.ident, h.ip = identity{}, ipKey{}
	h.peer = netip.Addr{}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		h.peer = ap.Addr().Unmap()
	}
}

func (h *handshake) serve(nc net.Conn) {
	s := h.s
	h.reset(nc)
	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	n, end, err := readHead(nc, h.buf)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			writeRejection(nc, http.StatusRequestHeaderFieldsTooLarge, "handshake over 16 KiB")
		}
		s.metrics.handshake("bad")
		nc.Close()
		return
	}
	if s.http != nil && !isUpgrade(h.buf[:end]) && !slices.Contains(s.cfg.Paths, requestPath(h.buf[:end])) {
		s.http.serve(nc, h.buf[:n])
		return
	}
	if !bytes.HasPrefix(h.buf, []byte("GET ")) {
		// gobwas/ws would answer 405; the protocol says any invalid upgrade is 400.
		writeRejection(nc, http.StatusBadRequest, "not a valid WebSocket upgrade")
		s.metrics.handshake("bad")
		nc.Close()
		return
	}
	h.head.Reset(h.buf[:end])
	h.nc, h.answered = nc, false
	_, err = h.up.Upgrade(struct {
		io.Reader
		io.Writer
	}{&h.head, h})
	h.nc = nil
	if err != nil {
		if !h.answered {
			// gobwas/ws returns a request line it cannot parse unanswered.
			writeRejection(nc, http.StatusBadRequest, "not a valid WebSocket upgrade")
		}
		s.metrics.handshake(rejectionLabel(err))
		switch {
		case h.conn != nil:
			s.release(h.conn, 1006) // the 101 never went out: undo the registration
		case h.ip.ok:
			s.ips.release(h.ip.addr)
		}
		h.conn = nil
		nc.Close()
		return
	}
	c := h.conn
	h.conn = nil
	if err := s.start(c, nc, h.buf[end:n]); err != nil {
		s.metrics.handshake("error")
		s.log.Warn("start connection failed", "err", err)
		return
	}
	s.metrics.handshake("ok")
}

// readHead reads the request head into buf, up to its blank line, and returns
// how many bytes were read and where the head ends. Reading it ourselves keeps
// bytes a client sends right after the head (its first frame) for the
// connection instead of losing them in a parser's buffer, and bounds the head.
func readHead(nc net.Conn, buf []byte) (n, end int, err error) {
	for {
		if n == len(buf) {
			return n, 0, errTooLarge
		}
		m, err := nc.Read(buf[n:])
		from := max(n-3, 0)
		n += m
		if i := bytes.Index(buf[from:n], []byte("\r\n\r\n")); i >= 0 {
			return n, from + i + 4, nil
		}
		if err != nil {
			return n, 0, err
		}
	}
}

// writeRejection answers a request gobwas/ws never sees.
func writeRejection(nc net.Conn, status int, reason string) {
	nc.Write([]byte(fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(reason), reason)))
}

func (h *handshake) onRequest(uri []byte) error {
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
		}
	}
	return nil
}

func (h *handshake) onHeader(key, value []byte) error {
	switch {
	case equalFold(key, "Origin"):
		h.origin = append(h.origin[:0], value...)
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

// onProtocol selects "msgo" and takes the token from an offered "auth.<token>",
// which keeps the token out of URLs and access logs.
func (h *handshake) onProtocol(v []byte) (string, bool) {
	offered := false
	httphead.ScanTokens(v, func(p []byte) bool {
		switch {
		case string(p) == "msgo":
			offered = true
		case bytes.HasPrefix(p, []byte("auth.")):
			if len(h.token) == 0 {
				h.token = append(h.token[:0], p[len("auth."):]...)
			}
		}
		return true
	})
	if offered {
		return "msgo", true
	}
	return "", true
}

func (h *handshake) onBeforeUpgrade() (ws.HandshakeHeader, error) {
	s := h.s
	if !h.originAllowed() {
		return nil, rejectOrigin
	}
	if s.draining.Load() {
		return nil, rejectDraining
	}
	if int(s.hub.count.Load()) >= s.cfg.MaxConnections {
		return nil, rejectFull
	}
	if len(h.token) == 0 {
		return nil, rejectAuth
	}
	id, err := s.auth(h.token)
	if err != nil {
		return nil, rejectAuth
	}
	ip := h.clientIP()
	if !s.ips.acquire(ip) {
		return nil, rejectPerIP
	}
	h.ip = ipKey{addr: ip, ok: true}
	h.ident = compact(id)
	c, err := s.prepare(h.nc, h.ident, h.ip)
	if err != nil {
		s.log.Warn("cannot take a connection", "err", err)
		return nil, rejectResources
	}
	h.conn = c
	return nil, nil
}

func (h *handshake) originAllowed() bool {
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
func (h *handshake) clientIP() netip.Addr {
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

func (s *Server) trusted(a netip.Addr) bool {
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
	case rejectResources:
		return "resources"
	case rejectDraining:
		return "draining"
	}
	return "bad"
}

// ipKey is a connection's client address for the per-IP limit.
type ipKey struct {
	addr netip.Addr
	ok   bool
}

// ipLimiter counts connections per client address.
type ipLimiter struct {
	max int
	mu  sync.Mutex
	n   map[netip.Addr]int32
}

func (l *ipLimiter) acquire(a netip.Addr) bool {
	if l.max <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = make(map[netip.Addr]int32)
	}
	if int(l.n[a]) >= l.max {
		return false
	}
	l.n[a]++
	return true
}

func (l *ipLimiter) release(a netip.Addr) {
	if l.max <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[a] <= 1 {
		delete(l.n, a)
		return
	}
	l.n[a]--
}
