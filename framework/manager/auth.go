package manager

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// authenticator checks the bearer token of a call.
type authenticator struct {
	want [sha256.Size]byte
	none bool // no token configured: loopback peers only
}

func newAuthenticator(token string) authenticator {
	return authenticator{want: sha256.Sum256([]byte(token)), none: token == ""}
}

// allow reports whether r may call a guarded path. Both tokens are hashed
// before the constant-time compare, so the time taken reveals neither the
// token's bytes nor its length.
func (a authenticator) allow(r *http.Request) bool {
	if a.none {
		// The port is meant to be on loopback then (CheckBind); refusing
		// other peers keeps it closed should it be bound wider anyway.
		return loopbackPeer(r.RemoteAddr)
	}
	got, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], a.want[:]) == 1
}

// bearer returns the token of an "Authorization: Bearer <token>" header; the
// scheme is case-insensitive (RFC 7235).
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

func loopbackPeer(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// ErrNoToken is CheckBind's answer to a port bound beyond loopback with no
// token.
var ErrNoToken = errors.New("manager: a token is required when the manager port is not on loopback")

// CheckBind refuses to serve the manager on listen (host:port) without a
// token unless listen is a loopback address. An empty host binds every
// interface, so it needs a token too. The console calls it before listening.
func CheckBind(listen, token string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("manager: listen address %q: %w", listen, err)
	}
	if token != "" || isLoopbackHost(host) {
		return nil
	}
	return fmt.Errorf("%w (listen %q)", ErrNoToken, listen)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
