package manager_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"msgo/framework"
	"msgo/framework/manager"
	"msgo/framework/msgotest"
)

// raw sends one call with exactly the headers given (Host too) and returns
// the status and body.
func raw(t *testing.T, method, url, host string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The tokenless loopback port refuses what a web page can make a browser
// send: a request with an Origin (403), a POST that is not JSON (415), a
// Host that is not loopback, localhost or allowed (421); none pushes or
// kicks. Listed origins and hosts are served.
func TestManagerRefusesWebPages(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{Token: "-",
		AllowedOrigins: []string{"https://admin.example"}, AllowedHosts: []string{"msgo.internal"}})
	cl := dial(t, srv, "u1", framework.TypeWechatUser)
	push := `{"event":"csrf","param":{}}`
	jsonCT := map[string]string{"Content-Type": "application/json"}
	for _, c := range []struct {
		name, method, path, host string
		hdr                      map[string]string
		body                     string
		want                     int
	}{
		{"cross-origin broadcast", "POST", "/api/broadcast", "", map[string]string{"Origin": "http://evil.example", "Content-Type": "application/json"}, push, 403},
		{"opaque origin", "POST", "/api/broadcast", "", map[string]string{"Origin": "null", "Content-Type": "application/json"}, push, 403},
		{"text/plain broadcast", "POST", "/api/broadcast", "", map[string]string{"Content-Type": "text/plain"}, push, 415},
		{"form broadcast", "POST", "/api/broadcast", "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, push, 415},
		{"no content type", "POST", "/api/broadcast", "", nil, push, 415},
		{"kick", "POST", "/api/disconnect/user", "", map[string]string{"Content-Type": "text/plain"}, `{"id":"u1"}`, 415},
		{"rebinding host", "GET", "/api/online/users", "evil.example:9502", nil, "", 421},
		{"rebinding host post", "POST", "/api/broadcast", "attacker.test", jsonCT, push, 421},
		{"private address host", "GET", "/api/online/users", "10.1.2.3:9502", nil, "", 421},
		{"unknown query key", "GET", "/api/online/users?room=x", "", nil, "", 400},
		{"repeated query key", "GET", "/api/online/users?type=kefu&type=wall", "", nil, "", 400},
		{"unknown query key on status", "GET", "/api/status?verbose=1", "", nil, "", 400},
		{"unknown body key", "POST", "/api/broadcast", "", jsonCT, `{"event":"csrf","param":{},"rooms":["r"]}`, 400},
		{"unknown kick key", "POST", "/api/disconnect/user", "", jsonCT, `{"id":"u1","code":1000}`, 400},
	} {
		status, body := raw(t, c.method, m.url+c.path, c.host, c.hdr, c.body)
		if status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.want)
		}
		if c.want == 400 && !strings.Contains(body, "room") && !strings.Contains(body, "type") &&
			!strings.Contains(body, "verbose") && !strings.Contains(body, "code") {
			t.Errorf("%s: %s does not name the key", c.name, body)
		}
	}
	msgotest.NoPush(t, 200*time.Millisecond, "csrf", "the client", cl)
	if r := cl.Request(t, "ping", nil); r.Status != 200 {
		t.Fatalf("the client was kicked: %+v", r)
	}

	self := strings.TrimPrefix(m.url, "http://") // the port's own host:port
	for _, c := range []struct {
		name, host string
		hdr        map[string]string
	}{
		{"allowed origin", "", map[string]string{"Origin": "https://admin.example", "Content-Type": "application/json"}},
		{"allowed host", "msgo.internal:9502", map[string]string{"Content-Type": "application/json; charset=utf-8"}},
		{"localhost", "localhost:9502", jsonCT},
		{"ipv6 loopback", "[::1]:9502", jsonCT},
		{"127.0.0.2", "127.0.0.2", jsonCT},
		{"same origin (the admin page)", "", map[string]string{"Origin": "http://" + self, "Content-Type": "application/json"}},
		{"same origin by name", "localhost:9502", map[string]string{"Origin": "http://localhost:9502", "Content-Type": "application/json"}},
	} {
		if status, body := raw(t, "POST", m.url+"/api/broadcast", c.host, c.hdr, push); status != 200 {
			t.Errorf("%s: %d %s, want 200", c.name, status, body)
		}
		cl.AwaitPush(t, "csrf")
	}
	// Only the port's own origin is exempt: another port, scheme or name
	// of the same machine is another page.
	_, port, _ := strings.Cut(self, ":")
	for _, c := range []struct{ name, host, origin string }{
		{"another port", "", "http://127.0.0.1:1"},
		{"another scheme", "", "https://" + self},
		{"another name", "", "http://localhost:" + port},
		{"origin with a path", "", "http://" + self + "/"},
		{"rebinding host naming itself", "evil.example:9502", "http://evil.example:9502"},
	} {
		hdr := map[string]string{"Origin": c.origin, "Content-Type": "application/json"}
		if status, body := raw(t, "POST", m.url+"/api/broadcast", c.host, hdr, push); status != 403 && status != 421 {
			t.Errorf("%s: %d %s, want 403 or 421", c.name, status, body)
		}
	}
	msgotest.NoPush(t, 200*time.Millisecond, "csrf", "the client", cl)
	// Health probes address the port by whatever name reaches it.
	if status, body := raw(t, "GET", m.url+"/healthz", "10.1.2.3:9502", nil, ""); status != 200 {
		t.Errorf("healthz by another host: %d %s", status, body)
	}
}

// needChromium returns Chromium's path; a missing one fails the test in CI
// and skips it elsewhere.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required in CI")
	}
	t.Skip("chromium not installed")
	return ""
}

// attackPage is a page on another origin that tries what a hostile site can
// do to a tokenless manager port on the visitor's machine: a no-cors POST
// (text/plain, no preflight) that broadcasts, one that kicks a user, and a
// read of the online users. It writes what it saw into the page.
const attackPage = `<!doctype html><title>attack</title><pre id="out">running</pre><script>
const mgr = %q, out = [];
async function attempt(name, url, init) {
  try { const r = await fetch(url, init); out.push(name + ":" + r.type + ":" + r.status); }
  catch (e) { out.push(name + ":error"); }
}
(async () => {
  await attempt("broadcast", mgr + "/api/broadcast", {method: "POST", mode: "no-cors", body: JSON.stringify({event: "csrf", param: {}})});
  await attempt("kick", mgr + "/api/disconnect/user", {method: "POST", mode: "no-cors", body: JSON.stringify({id: "u1"})});
  await attempt("beacon", mgr + "/api/broadcast", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: JSON.stringify({event: "csrf", param: {}})});
  await attempt("read", mgr + "/api/online/users", {});
  document.getElementById("out").textContent = "done " + out.join(" ");
})();
</script>`

// A real browser on a page of another origin cannot push through the
// tokenless manager port or kick a user with it: the WebSocket client gets
// no push and stays connected.
func TestBrowserOnAnotherOriginCannotUseTheManager(t *testing.T) {
	chromium := needChromium(t)
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{Token: "-"})
	cl := dial(t, srv, "u1", framework.TypeWechatUser)

	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, attackPage, m.url)
	}))
	t.Cleanup(page.Close)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-dev-shm-usage", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000", "--dump-dom", page.URL)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	dom := string(out)
	if !strings.Contains(dom, "done ") {
		t.Fatalf("the page did not finish its attempts:\n%s", dom)
	}
	saw, _, _ := strings.Cut(dom[strings.Index(dom, "done "):], "<")
	t.Logf("page saw: %s", saw)
	if strings.Contains(dom, "read:cors:200") || strings.Contains(dom, "read:basic:200") {
		t.Errorf("the page read the online users")
	}
	msgotest.NoPush(t, 300*time.Millisecond, "csrf", "the client", cl)
	if r := cl.Request(t, "ping", nil); r.Status != 200 {
		t.Fatalf("the client was kicked: %+v", r)
	}
}
