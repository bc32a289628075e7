package framework_test

import (
	"io"
	"net/http"
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// whoamiModule is a test module with one route that answers 200.
func whoamiModule(r *framework.Router) {
	r.Handle("test.whoami.whoami", func(c *framework.Context) error { return c.Success("", c.Client().Identity()) })
}

func TestPlainHTTPOnWebSocketPort(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sdk/msgo.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, "export {}")
	})
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{whoamiModule}, HTTP: mux})

	resp, err := http.Get("http://" + srv.Addr + "/sdk/msgo.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "export {}" || resp.Header.Get("Content-Type") != "text/javascript" {
		t.Fatalf("got %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	resp, err = http.Get("http://" + srv.Addr + "/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown page: %d", resp.StatusCode)
	}
	// A plain GET of a WebSocket path is still a bad upgrade, and WebSocket
	// clients still connect beside the pages.
	resp, err = http.Get("http://" + srv.Addr + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("plain GET /ws: %d", resp.StatusCode)
	}
	cl := srv.Dial(t, framework.Identity{ID: "u", Type: encrypt.TypeWall})
	if r := cl.Request(t, "test.whoami.whoami", nil); r.Status != 200 {
		t.Fatalf("whoami: %+v", r)
	}
}
