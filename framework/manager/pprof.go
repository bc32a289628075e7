package manager

import (
	"net/http"
	"net/http/pprof"
)

const pprofPrefix = "/debug/pprof/"

// pprofHandler mounts net/http/pprof on a mux of its own: importing the
// package registers on http.DefaultServeMux, which the manager never serves,
// so the profiles are reachable only here, behind the token.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(pprofPrefix, pprof.Index) // the index and every named profile
	mux.HandleFunc(pprofPrefix+"cmdline", pprof.Cmdline)
	mux.HandleFunc(pprofPrefix+"profile", pprof.Profile)
	mux.HandleFunc(pprofPrefix+"symbol", pprof.Symbol)
	mux.HandleFunc(pprofPrefix+"trace", pprof.Trace)
	return mux
}
