package live

import (
	"embed"
	"io/fs"

	"msgo/app/web"
)

//go:embed web
var pageFiles embed.FS

// Pages returns the live module's pages, the wall screen (wall.html) and the
// guests' phone page (join.html), with their scripts and styles, for app/web
// to serve under /live/.
func Pages() fs.FS { return web.Dir(pageFiles, "web") }
