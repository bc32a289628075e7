package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"msgo/app/index"
	"msgo/app/web"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// need returns the path of tool, or ends the test: in CI (env CI set) a
// missing tool fails it, elsewhere it skips.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", tool, err)
		}
		t.Skipf("%s not installed: %v", tool, err)
	}
	return p
}

var npmOnce struct {
	sync.Once
	err error
	out []byte
}

// needModules makes sure node_modules holds package.json's packages,
// running npm ci once per test binary when they are missing.
func needModules(t *testing.T) {
	t.Helper()
	npm := need(t, "npm")
	npmOnce.Do(func() {
		installed := true
		for _, pkg := range []string{"ws", "playwright-core", "typescript"} {
			if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
				installed = false
			}
		}
		if installed {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Env = append(os.Environ(), "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1")
		npmOnce.out, npmOnce.err = cmd.CombinedOutput()
	})
	if npmOnce.err != nil {
		t.Fatalf("npm ci in app/web: %v\n%s", npmOnce.err, npmOnce.out)
	}
}

// verifier checks tokens as the handshake does, for /auth/check.
func verifier(c *encrypt.Codec) func(string) error {
	return func(tok string) error {
		_, err := c.Parse([]byte(tok))
		return err
	}
}

// runNode runs node's test runner on files with env added, streaming its
// report into the test's output, and fails the test if any node test fails.
func runNode(t *testing.T, files []string, env ...string) {
	t.Helper()
	node := need(t, "node")
	if len(files) == 0 {
		t.Fatal("no node test files")
	}
	// Generous: a loaded 2-core machine runs a page test in minutes, not seconds.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = t.Output()
	cmd.Stderr = t.Output()
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("node --test %v: %v", files, err)
	}
}

// TestTypes type-checks the SDK's JSDoc against its .d.ts with tsc, and
// test/types.ts against the .d.ts.
func TestTypes(t *testing.T) {
	needModules(t)
	node := need(t, "node")
	out, err := exec.CommandContext(t.Context(), node, filepath.Join("node_modules", "typescript", "bin", "tsc"), "-p", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("tsc -p app/web: %v\n%s", err, out)
	}
}

// TestSDK runs the SDK's node tests (test/sdk/*.test.js) against two real
// nodes with app/index and the test routes: a default one, and one whose idle
// timeout is one second; plus an HTTP server with web's handler for
// /auth/check.
func TestSDK(t *testing.T) {
	needModules(t)
	const secret = "sdk-test-secret"
	mods := []msgotest.Module{index.Register, testRoutes}
	srv := msgotest.Start(t, msgotest.Options{Modules: mods, Secret: secret})
	idle := msgotest.Start(t, msgotest.Options{Modules: mods, Secret: secret,
		Config: framework.Config{IdleTimeout: time.Second}})
	h, err := web.NewHandler(web.Options{Verify: verifier(srv.Codec)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	files, _ := filepath.Glob(filepath.Join("test", "sdk", "*.test.js"))
	runNode(t, files,
		"MSGO_WS_URL="+srv.URL,
		"MSGO_WS_URL_IDLE="+idle.URL,
		"MSGO_HTTP_URL="+hs.URL,
		"MSGO_SECRET="+secret,
	)
}
