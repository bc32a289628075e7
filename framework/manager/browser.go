package manager

import (
	"mime"
	"net"
	"net/http"
	"strings"
)

// browserGuard keeps web pages on the same host away from the port. The
// port is tokenless on loopback by default, and a page on any origin can
// make a browser send it requests: a "simple" cross-origin POST (text/plain
// body, mode no-cors) needs no preflight, so it would push to every client
// or kick a user, and a page on a rebinding host name (one that resolves to
// 127.0.0.1) could read the answers too. So, before the token is checked:
//
//   - a Host that is not a loopback address, localhost or an allowed host
//     answers 421: a rebinding page's requests carry its own host name;
//   - a request with an Origin header answers 403 unless the origin is
//     allowed or is the port itself ("http://" + Host, the /admin page's
//     own calls; Host has passed the check above, so a rebinding page
//     cannot claim it): browsers send Origin with every cross-origin
//     request and every POST, the backends this port serves send none;
//   - a POST call whose Content-Type is not application/json answers 415
//     (jsonBody, once the call is known): it is the one body type a page
//     cannot send cross-origin without a CORS preflight, which this port
//     never grants.
//
// The open health calls are exempt, so that probes that address the port by
// a pod's IP keep working; they change nothing and reveal next to nothing.
type browserGuard struct {
	origins map[string]bool
	hosts   map[string]bool // lower-case host names or addresses, no port
}

func newBrowserGuard(origins, hosts []string) browserGuard {
	g := browserGuard{origins: map[string]bool{}, hosts: map[string]bool{}}
	for _, o := range origins {
		g.origins[o] = true
	}
	for _, h := range hosts {
		g.hosts[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	return g
}

// check returns the error that refuses r for its Host or Origin, or nil.
func (g browserGuard) check(r *http.Request) *Error {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if !isLoopbackHost(host) && !g.hosts[host] {
		return errorf(http.StatusMisdirectedRequest, "host %q is not served here (list it in manager.allowed_hosts)", r.Host)
	}
	if o, ok := r.Header["Origin"]; ok && (len(o) != 1 || !g.origins[o[0]] && o[0] != "http://"+r.Host) {
		return errorf(http.StatusForbidden, "requests from web pages are refused (origin %q; list it in manager.allowed_origins)", strings.Join(o, ", "))
	}
	return nil
}

// jsonBody refuses a POST call whose Content-Type is not application/json
// (parameters such as charset allowed).
func jsonBody(r *http.Request) *Error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))
	}
	return nil
}
