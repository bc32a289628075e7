package config

import (
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxCanned is the length of a kefu message, which a canned reply becomes.
const maxCanned = 2000

// Validate reports every setting that msgo cannot run with, one error per
// key joined with errors.Join. Each names the key by its YAML path and its
// environment variable, e.g.
//
//	config: outside.max_frame_size (MSGO_OUTSIDE_MAX_FRAME_SIZE): must be > 0, got -1
//
// Secrets are never part of a message.
func (c *Config) Validate() error {
	var v validator

	if c.NodeID != "" && !validNodeID(c.NodeID) {
		v.fail("node_id", "must be 1 to 64 letters, digits, '.', '_' or '-', got %q", c.NodeID)
	}
	if c.RuntimeDir == "" {
		v.fail("runtime_dir", "must not be empty")
	}

	o := &c.Outside
	v.hostPort("outside.listen", o.Listen)
	if len(o.Paths) == 0 {
		v.fail("outside.paths", "must list at least one path")
	}
	for _, p := range o.Paths {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# ") {
			v.fail("outside.paths", "must be paths starting with /, got %q", p)
		}
	}
	v.positive("outside.heartbeat_idle_time", o.HeartbeatIdleTime)
	v.positive("outside.max_frame_size", o.MaxFrameSize)
	if o.MaxMessageSize < o.MaxFrameSize {
		v.fail("outside.max_message_size", "must be >= outside.max_frame_size (%d), got %d", o.MaxFrameSize, o.MaxMessageSize)
	}
	v.positive("outside.rate_limit", o.RateLimit)
	v.positive("outside.max_connections", o.MaxConnections)
	v.nonNegative("outside.max_conns_per_ip", o.MaxConnsPerIP)
	for _, origin := range o.AllowedOrigins {
		if !validOrigin(origin) {
			v.fail("outside.allowed_origins", "must be lower-case scheme://host[:port] with no path, got %q", origin)
		}
	}
	for _, p := range o.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				v.fail("outside.trusted_proxies", "must be IP addresses or CIDRs, got %q", p)
			}
		}
	}
	v.positive("outside.write_queue_bytes", o.WriteQueueBytes)
	v.nonNegative("outside.workers", o.Workers)
	v.positive("outside.handshake_timeout", o.HandshakeTimeout)
	v.nonNegative("outside.stop_timeout", o.StopTimeout)
	v.nonNegative("outside.drain_window", o.DrainWindow)

	if v.hostPort("manager.listen", c.Manager.Listen) && c.Manager.Token == "" && !isLoopback(c.Manager.Listen) {
		v.fail("manager.token", "must be set when manager.listen (%s) is not a loopback address, got listen %q",
			EnvName("manager.listen"), c.Manager.Listen)
	}

	for _, origin := range c.Manager.AllowedOrigins {
		if !validOrigin(origin) {
			v.fail("manager.allowed_origins", "must be lower-case scheme://host[:port] with no path, got %q", origin)
		}
	}
	for _, h := range c.Manager.AllowedHosts {
		if !validHost(h) {
			v.fail("manager.allowed_hosts", "must be host names or IP addresses without a port, got %q", h)
		}
	}

	v.positive("auth.ttl", c.Auth.TTL)

	if _, err := c.Log.SlogLevel(); err != nil {
		v.fail("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	v.oneOf("log.format", c.Log.Format, "text", "json")

	v.oneOf("live.moderation.mode", c.Live.Moderation.Mode, "off", "hold_all")
	if px := &c.Proxy; px.Endpoint != "" {
		if u, err := url.Parse(px.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.fail("proxy.endpoint", "must be an http:// or https:// URL, got %q", px.Endpoint)
		}
	}
	v.positive("proxy.timeout", c.Proxy.Timeout)
	v.positive("proxy.workers", c.Proxy.Workers)
	v.positive("proxy.queue", c.Proxy.Queue)
	v.positive("proxy.disconnect_retention", c.Proxy.DisconnectRetention)
	v.positive("proxy.retry_min_ms", c.Proxy.RetryMinMS)
	v.positive("proxy.retry_max", c.Proxy.RetryMax)
	for _, m := range c.Proxy.Methods {
		if m == "" || strings.ContainsAny(m, " /") {
			v.fail("proxy.methods", "must be method prefixes such as shop or shop.order, got %q", m)
		}
	}

	v.oneOf("db.driver", c.DB.Driver, "sqlite", "mysql")
	if c.DB.Driver == "mysql" && c.DB.DSN == "" {
		v.fail("db.dsn", "must be set when db.driver is mysql")
	}
	v.positive("db.max_open_conns", c.DB.MaxOpenConns)
	v.nonNegative("db.max_idle_conns", c.DB.MaxIdleConns)
	v.nonNegative("db.conn_max_lifetime", c.DB.ConnMaxLifetime)

	for _, r := range c.Kefu.Canned {
		if n := utf8.RuneCountInString(r); n < 1 || n > maxCanned {
			v.fail("kefu.canned", "each reply must be 1 to %d characters, got %d", maxCanned, n)
		}
	}

	v.oneOf("cache.driver", c.Cache.Driver, "memory", "redis")
	if c.Cache.Driver == "redis" {
		v.hostPort("cache.redis.addr", c.Cache.Redis.Addr)
	}
	v.nonNegative("cache.redis.db", c.Cache.Redis.DB)

	return errors.Join(v.errs...)
}

// validator collects the problems Validate finds.
type validator struct{ errs []error }

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, keyError(path, format, args...))
}

func (v *validator) positive(path string, n int) {
	if n <= 0 {
		v.fail(path, "must be > 0, got %d", n)
	}
}

func (v *validator) nonNegative(path string, n int) {
	if n < 0 {
		v.fail(path, "must be >= 0, got %d", n)
	}
}

func (v *validator) oneOf(path, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.fail(path, "must be %s, got %q", strings.Join(allowed, " or "), s)
}

// hostPort checks a host:port address and reports whether it is one. The host
// may be empty (all interfaces), an IP address or a name; port 0 asks the
// kernel for a free port, which tests use.
func (v *validator) hostPort(path, addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		if _, perr := strconv.ParseUint(port, 10, 16); perr != nil {
			err = errors.New("bad port")
		} else if strings.ContainsAny(host, " /") {
			err = errors.New("bad host")
		}
	}
	if err != nil {
		v.fail(path, "must be host:port, got %q", addr)
		return false
	}
	return true
}

// isLoopback reports whether the host:port addr listens on loopback only.
func isLoopback(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// validOrigin reports whether s is an Origin header value a browser could send:
// lower-case scheme://host[:port], nothing after. The handshake compares
// origins byte for byte, so anything else could never match.
func validOrigin(s string) bool {
	u, err := url.Parse(s)
	// Rebuilding s from scheme and host alone rules out a user, path, query
	// or fragment.
	return err == nil && u.Scheme != "" && u.Hostname() != "" &&
		s == u.Scheme+"://"+u.Host && s == strings.ToLower(s)
}

// validHost reports whether s is a host name or an IP address (IPv6 with or
// without brackets), with no scheme, port or path: what a Host header's host
// part is compared with.
func validHost(s string) bool {
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return true
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// validNodeID keeps node ids safe inside Redis keys and "node:fd" addresses.
func validNodeID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
