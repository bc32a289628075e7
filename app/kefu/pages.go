package kefu

import (
	"embed"
	"io/fs"
)

//go:embed web
var pageFiles embed.FS

// Pages returns the kefu module's pages, the agent console (agent.html) and the
// users' chat (chat.html), with their scripts and styles, for app/web
// to serve under /kefu/.
func Pages() fs.FS {
	f, err := fs.Sub(pageFiles, "web")
	if err != nil {
		panic("kefu: embedded pages: " + err.Error()) // a build mistake
	}
	return f
}
