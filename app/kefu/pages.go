package kefu

import (
	"embed"
	"io/fs"

	"msgo/app/web"
)

//go:embed web
var pageFiles embed.FS

// Pages returns the kefu module's pages, the agent console (agent.html) and the
// users' chat (chat.html), with their scripts and styles, for app/web
// to serve under /kefu/.
func Pages() fs.FS { return web.Dir(pageFiles, "web") }
