// Package web serves msgo's HTTP side: the client SDK (/sdk/msgo.js and
// friends), the shared page assets (/assets/) and the pages that modules
// embed (app/live/web, app/kefu/web), all from the binary, with no CDN.
//
//	h, err := web.NewHandler(web.Options{
//		Pages:  map[string]fs.FS{"live": live.Pages(), "kefu": kefu.Pages()},
//		Verify: func(tok string) error { _, err := codec.Parse([]byte(tok)); return err },
//	})
//	srv, err := framework.New(framework.Options{HTTP: h, ...}) // plain GETs on the WebSocket port
//
// A module's page wall.html is served at /live/wall and its other files
// (wall.js, wall.css, img/logo.svg) at /live/<name>. GET /auth/check tells a
// page whether its token is good (the browser hides a refused handshake's
// 403); it reads the token from the Authorization header only, so tokens stay
// out of access logs.
//
// Everything is read and hashed once in NewHandler; serving is a map lookup.
// The Handler is immutable and safe for concurrent use.
//
// The SDK's Node tests (test/sdk) and the browser tests (test/browser) run
// from this package's Go tests against a real node: go test ./app/web/...
// They need node (and chromium for the browser tests) and the packages of
// package.json (npm ci in this directory; the tests run it when
// node_modules is missing). With CI set, a missing tool fails the tests.
package web
