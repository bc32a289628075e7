package web_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"msgo/app/index"
	"msgo/app/web"
	"msgo/framework/msgotest"
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

// TestBrowser runs the browser tests (test/browser/*.test.js): Debian's
// Chromium under playwright-core opens the pages from web's handler, pointed
// with ?ws= at a real node.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	chromium := need(t, "chromium")
	needModules(t)
	const secret = "browser-test-secret"
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{index.Register}, Secret: secret})
	h, err := web.NewHandler(web.Options{Pages: modulePages(), Verify: verifier(srv.Codec)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	files, _ := filepath.Glob(filepath.Join("test", "browser", "*.test.js"))
	runNode(t, files,
		"MSGO_PAGE_URL="+hs.URL,
		"MSGO_WS_URL="+srv.URL,
		"MSGO_SECRET="+secret,
		"MSGO_ARTIFACTS="+artifactsDir(t),
		"MSGO_CHROMIUM="+chromium,
	)
}
