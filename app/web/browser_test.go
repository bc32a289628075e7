package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"msgo/app/index"
	"msgo/app/web"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// artifactsDir is where browser tests leave screenshots: $MSGO_TEST_ARTIFACTS,
// or test-artifacts/ at the repository's root (git-ignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("MSGO_TEST_ARTIFACTS"); d != "" {
		return d
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "test-artifacts")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// pages returns web's handler over the modules' pages, checking tokens
// with codec.
func pages(t *testing.T, codec *encrypt.Codec) http.Handler {
	t.Helper()
	h, err := web.NewHandler(web.Options{Pages: modulePages(), Verify: verifier(codec)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// runBrowserTests runs the browser test files matching pattern (under
// test/browser) on the pages at pageURL, with env added. With wsURL the
// pages are pointed at that node with ?ws=; without, they use their own
// origin's /ws, as they do when msgo serves them.
func runBrowserTests(t *testing.T, pattern, pageURL, wsURL string, env ...string) {
	t.Helper()
	chromium := need(t, "chromium")
	needModules(t)
	files, _ := filepath.Glob(filepath.Join("test", "browser", pattern))
	runNode(t, files, append(env,
		"MSGO_PAGE_URL="+pageURL,
		"MSGO_WS_URL="+wsURL,
		"MSGO_ARTIFACTS="+artifactsDir(t),
		"MSGO_CHROMIUM="+chromium,
	)...)
}

// skipShort skips browser tests in -short runs.
func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
}

// TestBrowser runs the browser smoke tests (test/browser/*.test.js): every
// page, served by the node itself on its WebSocket port, loads, connects to
// its own origin's /ws, and says plainly when its token is missing or bad.
func TestBrowser(t *testing.T) {
	skipShort(t)
	const secret = "browser-test-secret"
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{index.Register}, Secret: secret,
		HTTP: pages(t, encrypt.New(secret, 24*time.Hour))})
	runBrowserTests(t, "*.test.js", "http://"+srv.Addr, "", "MSGO_SECRET="+secret)
}
