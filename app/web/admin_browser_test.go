package web_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"msgo/app/index"
	"msgo/app/web"
	"msgo/framework"
	"msgo/framework/manager"
	"msgo/framework/msgotest"
)

// TestAdminBrowser drives the manager's /admin page in Chromium: it asks for
// the token once and keeps it out of URLs, shows nodes, connections, users,
// the largest rooms and closes by code, refreshes every second, pushes a
// test message to a room, and speaks Chinese with ?lang=zh-CN. A second
// manager with no token (loopback) opens without asking.
func TestAdminBrowser(t *testing.T) {
	skipShort(t)
	const secret, token = "admin-browser-secret", "admin-browser-token"
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{index.Register, adminRoutes}, Secret: secret, NodeID: "node-a"})
	mgr := httptest.NewServer(manager.New(manager.Options{Server: srv, Token: token, Version: "v1.4.0", Assets: web.Assets()}))
	t.Cleanup(mgr.Close)
	open := httptest.NewServer(manager.New(manager.Options{Server: srv, Version: "v1.4.0", Assets: web.Assets()}))
	t.Cleanup(open.Close)

	// A hall of 12 guests (one on two devices), a wall, and a smaller room.
	join := func(id, typ, room string) {
		cl := srv.Dial(t, framework.Identity{ID: id, Type: typ, Nickname: id})
		if r := cl.Request(t, "admintest.room.join", map[string]any{"room": room}); r.Status != 200 {
			t.Fatalf("join %s: %+v", room, r)
		}
	}
	for i := range 12 {
		join("guest-"+string(rune('a'+i)), framework.TypeWechatUser, "hall")
	}
	join("guest-a", framework.TypeWechatUser, "hall")
	join("wall-1", framework.TypeWall, "hall")
	join("guest-x", framework.TypeWechatUser, "vip")
	join("guest-y", framework.TypeWechatUser, "vip")
	// One client already left, so the closes table has a row.
	gone := srv.Dial(t, framework.Identity{ID: "gone", Type: framework.TypeWechatUser})
	gone.Close()

	runBrowserTests(t, filepath.Join("admin", "*.test.js"), mgr.URL, srv.URL,
		"MSGO_SECRET="+secret, "MSGO_MANAGER_TOKEN="+token, "MSGO_OPEN_MANAGER_URL="+open.URL)
}

// adminRoutes lets a test client join a room: admintest.room.join {"room"}.
func adminRoutes(r *framework.Router) {
	r.Handle("admintest.room.join", func(c *framework.Context) error {
		var p struct {
			Room string `json:"room"`
		}
		if err := c.Bind(&p); err != nil {
			return err
		}
		return c.App().JoinGroup(c.Context(), c.Client().ID(), framework.Room(p.Room))
	})
}
