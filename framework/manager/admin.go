package manager

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"msgo/framework"
)

// The admin page: static files served without the token (they hold no
// data; a browser cannot send a bearer header on navigation), and one call,
// /api/admin/stats, behind it. The page asks for the token once, keeps it in
// sessionStorage and sends it as a bearer header, never in a URL.

//go:embed admin
var adminFiles embed.FS

const (
	adminPath    = "/admin"
	assetsPrefix = "/assets/"
	// adminCSP allows the page's own scripts, styles and calls, and nothing
	// else: no inline script or style, no frames, no form posts.
	adminCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// addAdmin mounts the page, its files and its stats call.
func (m *Manager) addAdmin() {
	sub, _ := fs.Sub(adminFiles, "admin")
	files := http.FileServerFS(sub)
	page := func(name string) route {
		return route{method: http.MethodGet, open: true, h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			secureHeaders(w.Header())
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/" + name
			if name == "index.html" {
				r2.URL.Path = "/" // FileServer redirects a request for index.html
			}
			files.ServeHTTP(w, r2)
		})}
	}
	m.routes[adminPath] = page("index.html")
	m.routes[adminPath+"/admin.js"] = page("admin.js")
	m.routes[adminPath+"/admin.css"] = page("admin.css")
	m.routes["/api/admin/stats"] = route{method: http.MethodGet, h: m.api(m.adminStats)}
}

// assetsHandler serves the shared page scripts under /assets/.
func assetsHandler(assets fs.FS) http.Handler {
	files := http.StripPrefix(assetsPrefix[:len(assetsPrefix)-1], http.FileServerFS(assets))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secureHeaders(w.Header())
		files.ServeHTTP(w, r)
	})
}

func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", adminCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
}

// adminStats is the answer of /api/admin/stats: what /api/status does not
// say and the admin page shows.
type adminStats struct {
	// Rooms are this node's largest rooms (groups), largest first.
	Rooms []framework.RoomSize `json:"rooms"`
	// Closes counts this node's closed connections by close code since it
	// started; the page shows the difference between two answers.
	Closes map[string]int64 `json:"closes"`
	Time   int64            `json:"time"` // unix ms, when the figures were taken
}

// GET /api/admin/stats?limit=10 (1..100)
func (m *Manager) adminStats(r *http.Request) (any, error) {
	q := r.URL.Query()
	limit := 10
	for k, v := range q {
		if k != "limit" {
			return nil, errorf(http.StatusBadRequest, "unknown parameter %s", k)
		}
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > 100 {
			return nil, errorf(http.StatusBadRequest, "limit: must be an integer from 1 to 100")
		}
		limit = n
	}
	closes, err := m.closes()
	if err != nil {
		return nil, err
	}
	return adminStats{Rooms: m.app.LargestRooms(limit), Closes: closes, Time: time.Now().UnixMilli()}, nil
}

// closes reads the node's close counter by code from its registry.
func (m *Manager) closes() (map[string]int64, error) {
	fams, err := m.node.Metrics().Registry.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	out := map[string]int64{}
	for _, f := range fams {
		if f.GetName() != "msgo_closes_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "code" {
					out[l.GetValue()] = int64(s.GetCounter().GetValue())
				}
			}
		}
	}
	return out, nil
}
