package web_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"msgo/app/kefu"
	"msgo/config"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// TestBrowserKefu runs test/browser/kefu/*.test.js: the agent console and
// the user chat, in Chinese and in English, against a node with the kefu
// module (built-in FAQ bot, the default canned replies) on SQLite, the
// pages served from another origin.
func TestBrowserKefu(t *testing.T) {
	skipShort(t)
	const secret = "browser-test-secret"
	gdb := dbtest.SQLite(t)
	if err := db.Migrate(t.Context(), gdb, kefu.Models()...); err != nil {
		t.Fatal(err)
	}
	srv := msgotest.Start(t, msgotest.Options{Secret: secret, Unavailable: []error{db.ErrUnavailable},
		Modules: []msgotest.Module{func(r *framework.Router) {
			stop, err := kefu.Register(r, kefu.Options{DB: gdb, Canned: config.Default().Kefu.Canned})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(stop)
		}}})
	// The pages come from a server of their own and reach the node with ?ws=.
	hs := httptest.NewServer(pages(t, srv.Codec))
	t.Cleanup(hs.Close)
	runBrowserTests(t, filepath.Join("kefu", "*.test.js"), hs.URL, srv.URL, "MSGO_SECRET="+secret)
}
