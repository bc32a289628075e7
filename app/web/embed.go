package web

import (
	"embed"
	"io/fs"
)

//go:embed sdk assets
var files embed.FS

// SDK returns the client SDK files (msgo.js, msgo-wx.js and their .d.ts),
// served at /sdk/.
func SDK() fs.FS { return sub("sdk") }

// Assets returns the files the pages share (page.js, page.css), served at
// /assets/.
func Assets() fs.FS { return sub("assets") }

func sub(dir string) fs.FS { return Dir(files, dir) }

// Dir returns the directory dir of an embedded file system, for a module
// that embeds its pages; a missing directory is a build mistake and panics.
func Dir(fsys embed.FS, dir string) fs.FS {
	f, err := fs.Sub(fsys, dir)
	if err != nil {
		panic("web: embedded " + dir + ": " + err.Error())
	}
	return f
}
