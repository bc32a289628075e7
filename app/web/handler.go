package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// Options configures NewHandler.
type Options struct {
	// Pages maps a module name to its pages and their assets, e.g.
	// "live" -> live.Pages(). name.html is served at /<module>/name, any
	// other file at /<module>/<its path>.
	Pages map[string]fs.FS
	// Verify reports whether a token is good (nil error). With it, GET
	// /auth/check answers 200 or 403 for the token in the Authorization
	// header; without it, /auth/check is 404 and pages cannot tell a bad
	// token from a server that is down.
	Verify func(token string) error
}

// CheckPath is where pages ask whether their token is good.
const CheckPath = "/auth/check"

// pageCSP keeps pages to their own origin's scripts and styles; connect-src
// allows ws: and wss: so a page can be pointed at another node with ?ws=.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'"

var moduleName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// reserved are first path segments the handler or the WebSocket side owns.
var reserved = map[string]bool{"sdk": true, "assets": true, "auth": true, "ws": true}

// contentTypes is set explicitly rather than taken from the system's MIME
// table, which differs between machines (.js was text/plain on some).
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".ts":    "text/plain; charset=utf-8",
	".json":  "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".webp":  "image/webp",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

type file struct {
	body  []byte
	ctype string
	etag  string
	page  bool
}

// Handler serves the SDK, the shared assets and the modules' pages.
type Handler struct {
	files  map[string]*file
	verify func(string) error
}

var _ http.Handler = (*Handler)(nil)

// NewHandler reads and hashes every file once. It fails on a module name
// that is not [a-z0-9_-]+ or that the handler reserves (sdk, assets, auth,
// ws), on two files that would share a URL, and on an unreadable file system.
func NewHandler(o Options) (*Handler, error) {
	h := &Handler{files: make(map[string]*file), verify: o.Verify}
	if err := h.mount("/sdk/", SDK(), false); err != nil {
		return nil, err
	}
	if err := h.mount("/assets/", Assets(), false); err != nil {
		return nil, err
	}
	for name, fsys := range o.Pages {
		if !moduleName.MatchString(name) || reserved[name] {
			return nil, fmt.Errorf("web: module name %q is not usable as a path", name)
		}
		if err := h.mount("/"+name+"/", fsys, true); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Paths returns every URL path the handler serves a file at, /auth/check
// aside; for tests and for listing the pages.
func (h *Handler) Paths() []string {
	out := make([]string, 0, len(h.files))
	for p := range h.files {
		out = append(out, p)
	}
	return out
}

func (h *Handler) mount(prefix string, fsys fs.FS, pages bool) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("web: read %s: %w", prefix, err)
		}
		if d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("web: read %s%s: %w", prefix, p, err)
		}
		ext := path.Ext(p)
		ctype, ok := contentTypes[ext]
		if !ok {
			ctype = "application/octet-stream"
		}
		page := pages && ext == ".html"
		url := prefix + p
		if page {
			url = strings.TrimSuffix(url, ".html")
		}
		if _, dup := h.files[url]; dup {
			return fmt.Errorf("web: two files for %s", url)
		}
		sum := sha256.Sum256(body)
		h.files[url] = &file{body: body, ctype: ctype, page: page,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
}

// ServeHTTP answers GET and HEAD; anything else is 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if r.URL.Path == CheckPath {
		h.check(w, r)
		return
	}
	f := h.files[r.URL.Path]
	if f == nil {
		plain(w, http.StatusNotFound, "not found")
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("ETag", f.etag)
	// Revalidate every time: the files change with the binary, and the ETag
	// makes an unchanged one a 304.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	// Pages carry the token in their URL; never hand it to another site.
	hd.Set("Referrer-Policy", "no-referrer")
	if f.page {
		hd.Set("Content-Security-Policy", pageCSP)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// check answers whether the bearer token is good. The token is never read
// from the query string, which access logs keep.
func (h *Handler) check(w http.ResponseWriter, r *http.Request) {
	if h.verify == nil {
		plain(w, http.StatusNotFound, "not found")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" || h.verify(tok) != nil {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"status":403,"info":"missing or invalid token"}`))
		return
	}
	w.Write([]byte(`{"status":200,"info":"ok"}`))
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}
