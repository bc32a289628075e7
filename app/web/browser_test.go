package web_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

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

// runBrowserTests serves the pages with web's handler, checking tokens with
// codec, and runs the browser test files matching pattern (under
// test/browser) against the node at wsURL, with env added.
func runBrowserTests(t *testing.T, pattern string, codec *encrypt.Codec, wsURL string, env ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	chromium := need(t, "chromium")
	needModules(t)
	h, err := web.NewHandler(web.Options{Pages: modulePages(), Verify: verifier(codec)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	files, _ := filepath.Glob(filepath.Join("test", "browser", pattern))
	runNode(t, files, append(env,
		"MSGO_PAGE_URL="+hs.URL,
		"MSGO_WS_URL="+wsURL,
		"MSGO_ARTIFACTS="+artifactsDir(t),
		"MSGO_CHROMIUM="+chromium,
	)...)
}

// TestBrowser runs the browser smoke tests (test/browser/*.test.js): every
// page loads from web's handler, connects to a real node, and says plainly
// when its token is missing or bad.
func TestBrowser(t *testing.T) {
	const secret = "browser-test-secret"
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{index.Register}, Secret: secret})
	runBrowserTests(t, "*.test.js", srv.Codec, srv.URL, "MSGO_SECRET="+secret)
}
