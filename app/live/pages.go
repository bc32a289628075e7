package live

import (
	"embed"
	"io/fs"
)

//go:embed web
var pageFiles embed.FS

// Pages returns the live module's pages, the wall screen (wall.html) and the
// guests' phone page (join.html), with their scripts and styles, for app/web
// to serve under /live/.
func Pages() fs.FS {
	f, err := fs.Sub(pageFiles, "web")
	if err != nil {
		panic("live: embedded pages: " + err.Error()) // a build mistake
	}
	return f
}
