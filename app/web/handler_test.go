package web_test

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"msgo/app/web"
)

// modulePages are the modules' page directories as they are on disk (what
// live.Pages and kefu.Pages embed), read directly so these tests do not
// depend on the rest of those packages compiling.
func modulePages() map[string]fs.FS {
	return map[string]fs.FS{"live": os.DirFS("../live/web"), "kefu": os.DirFS("../kefu/web")}
}

func newServer(t *testing.T, o web.Options) *httptest.Server {
	t.Helper()
	h, err := web.NewHandler(o)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServesSDKAndPagesWithTheirTypes(t *testing.T) {
	s := newServer(t, web.Options{Pages: modulePages()})
	cases := map[string]string{
		"/sdk/msgo.js":      "text/javascript; charset=utf-8",
		"/sdk/msgo-wx.js":   "text/javascript; charset=utf-8",
		"/sdk/msgo.d.ts":    "text/plain; charset=utf-8",
		"/assets/page.js":   "text/javascript; charset=utf-8",
		"/assets/page.css":  "text/css; charset=utf-8",
		"/live/wall":        "text/html; charset=utf-8",
		"/live/join":        "text/html; charset=utf-8",
		"/live/wall.js":     "text/javascript; charset=utf-8",
		"/live/wall.css":    "text/css; charset=utf-8",
		"/kefu/agent":       "text/html; charset=utf-8",
		"/kefu/chat":        "text/html; charset=utf-8",
		"/kefu/thread.js":   "text/javascript; charset=utf-8",
		"/kefu/kefu.css":    "text/css; charset=utf-8",
		"/live/room.js":     "text/javascript; charset=utf-8",
		"/sdk/msgo-wx.d.ts": "text/plain; charset=utf-8",
		"/kefu/agent.js":    "text/javascript; charset=utf-8",
		"/kefu/chat.js":     "text/javascript; charset=utf-8",
		"/live/join.js":     "text/javascript; charset=utf-8",
		"/live/join.css":    "text/css; charset=utf-8",
		"/live/moderate":    "text/html; charset=utf-8",
		"/live/moderate.js": "text/javascript; charset=utf-8",
		"/assets/i18n.js":   "text/javascript; charset=utf-8",
		"/kefu/agent.css":   "text/css; charset=utf-8",
		"/kefu/chat.css":    "text/css; charset=utf-8",
	}
	for p, ctype := range cases {
		resp, body := get(t, s.URL+p, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype || body == "" {
			t.Errorf("GET %s: %d %q, %d bytes", p, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: headers %v", p, resp.Header)
		}
		isPage := strings.HasPrefix(ctype, "text/html")
		if csp := resp.Header.Get("Content-Security-Policy"); isPage != (csp != "") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
}

func TestUnknownPathsMethodsAndRevalidation(t *testing.T) {
	s := newServer(t, web.Options{Pages: modulePages()})
	for _, p := range []string{"/", "/ws", "/live", "/live/", "/live/wall.html", "/live/wall/", "/sdk/", "/live/../sdk/msgo.js", "/nope/wall", "/auth/check"} {
		if resp, _ := get(t, s.URL+p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, err := http.Post(s.URL+"/live/wall", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", resp.StatusCode, resp.Header)
	}
	first, body := get(t, s.URL+"/sdk/msgo.js", nil)
	etag := first.Header.Get("ETag")
	if etag == "" || first.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("caching headers %v", first.Header)
	}
	again, rest := get(t, s.URL+"/sdk/msgo.js", map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified || rest != "" {
		t.Errorf("revalidation: %d with %d bytes", again.StatusCode, len(rest))
	}
	head, err := http.Head(s.URL + "/sdk/msgo.js")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 200 || head.ContentLength != int64(len(body)) {
		t.Errorf("HEAD: %d, length %d want %d", head.StatusCode, head.ContentLength, len(body))
	}
}

func TestAuthCheck(t *testing.T) {
	const good = "good-token"
	s := newServer(t, web.Options{Verify: func(tok string) error {
		if tok != good {
			return errors.New("bad token")
		}
		return nil
	}})
	cases := []struct {
		name   string
		u      string
		header string
		status int
	}{
		{"no header", "/auth/check", "", 403},
		{"bad token", "/auth/check", "Bearer nope", 403},
		{"not bearer", "/auth/check", "Basic " + good, 403},
		{"token in the query is not read", "/auth/check?auth=" + good, "", 403},
		{"good token", "/auth/check", "Bearer " + good, 200},
	}
	for _, c := range cases {
		hdr := map[string]string{}
		if c.header != "" {
			hdr["Authorization"] = c.header
		}
		resp, body := get(t, s.URL+c.u, hdr)
		if resp.StatusCode != c.status || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %v", c.name, resp.StatusCode, resp.Header)
		}
		if c.status == 403 && !strings.Contains(body, "missing or invalid token") {
			t.Errorf("%s: body %q", c.name, body)
		}
	}
}

func TestNewHandlerRefusesBadModules(t *testing.T) {
	page := fstest.MapFS{"a.html": {Data: []byte("<p>a")}}
	for _, name := range []string{"sdk", "assets", "auth", "ws", "Live", "a/b", ""} {
		if _, err := web.NewHandler(web.Options{Pages: map[string]fs.FS{name: page}}); err == nil {
			t.Errorf("module %q accepted", name)
		}
	}
	clash := fstest.MapFS{"a.html": {Data: []byte("<p>a")}, "a": {Data: []byte("a")}}
	if _, err := web.NewHandler(web.Options{Pages: map[string]fs.FS{"m": clash}}); err == nil {
		t.Error("two files for /m/a accepted")
	}
}

var (
	refAttr   = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	jsImport  = regexp.MustCompile(`(?m)(?:^import\s[^'"]*|^export\s[^'"]*from\s*|import\()\s*['"]([^'"]+)['"]`)
	remoteRef = regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
)

// TestEverythingIsServedLocally checks that pages load nothing from another
// site (no CDN) and that every script, style and module they reference,
// directly or through imports, is served.
func TestEverythingIsServedLocally(t *testing.T) {
	h, err := web.NewHandler(web.Options{Pages: modulePages()})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	bodies := map[string]string{}
	for _, p := range h.Paths() {
		_, bodies[p] = get(t, s.URL+p, nil)
	}
	for p, body := range bodies {
		var refs []string
		switch {
		case strings.HasSuffix(p, ".js"):
			for _, m := range jsImport.FindAllStringSubmatch(body, -1) {
				refs = append(refs, m[1])
			}
		case strings.HasSuffix(p, ".css"), strings.HasSuffix(p, ".ts"):
		default: // a page
			for _, m := range refAttr.FindAllStringSubmatch(body, -1) {
				refs = append(refs, m[1])
			}
		}
		if !strings.HasSuffix(p, ".ts") {
			if m := remoteRef.FindString(body); m != "" {
				t.Errorf("%s refers to another site: %q", p, m)
			}
		}
		for _, ref := range refs {
			if strings.HasPrefix(ref, "data:") {
				continue
			}
			u, err := url.Parse(ref)
			if err != nil || u.Host != "" {
				t.Errorf("%s: reference %q is not local", p, ref)
				continue
			}
			target := ref
			if !strings.HasPrefix(ref, "/") {
				target = path.Join(path.Dir(p), ref)
			}
			if _, ok := bodies[target]; !ok {
				t.Errorf("%s references %s, which is not served", p, target)
			}
		}
	}
	for _, page := range []string{"/live/wall", "/live/join", "/live/moderate", "/kefu/agent", "/kefu/chat"} {
		if _, ok := bodies[page]; !ok {
			t.Errorf("%s is not served", page)
		}
	}
}
