package scaffold

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// findMarker returns the offset of the first line holding marker and that
// line's indentation; -1 when src has none.
func findMarker(src []byte, marker string) (at int, indent string) {
	for start := 0; start < len(src); {
		end := bytes.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += start
		}
		l := src[start:end]
		trimmed := bytes.TrimLeft(l, " \t")
		if bytes.HasPrefix(trimmed, []byte(marker)) {
			return start, string(l[:len(l)-len(trimmed)])
		}
		start = end + 1
	}
	return -1, ""
}

// insertLine returns src with text on a line of its own at offset at.
func insertLine(src []byte, at int, indent, text string) []byte {
	out := make([]byte, 0, len(src)+len(indent)+len(text)+1)
	out = append(out, src[:at]...)
	out = append(out, indent...)
	out = append(out, text...)
	out = append(out, '\n')
	return append(out, src[at:]...)
}

// addImport returns src, a Go file, importing path too. The new import goes
// beside the last import under prefix (else the last import) and gofmt
// sorts it into its group.
func addImport(src []byte, path, prefix string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	var anchor *ast.ImportSpec
	for _, is := range f.Imports {
		p, _ := strconv.Unquote(is.Path.Value)
		if p == path {
			return nil, fmt.Errorf("it already imports %q", path)
		}
		if anchor == nil || strings.HasPrefix(p, prefix) || !strings.HasPrefix(importPath(anchor), prefix) {
			anchor = is
		}
	}
	if anchor == nil {
		return nil, fmt.Errorf("it has no imports to add %q beside", path)
	}
	var decl *ast.GenDecl
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT && g.Pos() <= anchor.Pos() && anchor.End() <= g.End() {
			decl = g
		}
	}
	var at int
	var text string
	if decl.Lparen.IsValid() {
		at, text = fset.Position(anchor.End()).Offset, "\n\t"+strconv.Quote(path)
	} else {
		at, text = fset.Position(decl.End()).Offset, "\nimport "+strconv.Quote(path)
	}
	out := make([]byte, 0, len(src)+len(text))
	out = append(out, src[:at]...)
	out = append(out, text...)
	out = append(out, src[at:]...)
	return out, nil
}

func importPath(is *ast.ImportSpec) string {
	p, _ := strconv.Unquote(is.Path.Value)
	return p
}

// routerParam returns the name of the *framework.Router parameter of the
// function around offset in src, "r" when there is none to be found.
func routerParam(src []byte, offset int) string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if err != nil {
		return "r"
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		if fset.Position(fn.Body.Pos()).Offset > offset || fset.Position(fn.Body.End()).Offset < offset {
			continue
		}
		for _, field := range fn.Type.Params.List {
			star, ok := field.Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Router" && len(field.Names) > 0 {
				return field.Names[0].Name
			}
		}
	}
	return "r"
}

// gofmt formats an edited file; an edit that breaks it is reported, and the
// file is left as it was.
func gofmt(rel string, src []byte) ([]byte, error) {
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("scaffold: %s would not parse after the edit (fix it, then retry): %w", rel, err)
	}
	return out, nil
}

// change is one file a generation writes.
type change struct {
	rel  string // slash-separated, relative to the project root
	src  []byte
	edit bool // an existing file to replace; else a new one
}

// apply writes changes: new files first, refusing any that exists, then
// edits, each replaced by a rename. On an error it removes the files it
// created, and dir when it made it.
func (p *Project) apply(dir string, changes []change) (Result, error) {
	var res Result
	var created []string
	madeDir := false
	undo := func(err error) (Result, error) {
		for _, f := range created {
			os.Remove(f)
		}
		if madeDir {
			os.Remove(p.abs(dir))
		}
		return Result{}, err
	}
	if dir != "" {
		if err := os.Mkdir(p.abs(dir), 0o755); err != nil {
			return Result{}, fmt.Errorf("scaffold: %w", err)
		}
		madeDir = true
	}
	for _, c := range changes {
		if c.edit {
			continue
		}
		name := p.abs(c.rel)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return undo(fmt.Errorf("scaffold: refusing to overwrite: %w", err))
		}
		created = append(created, name)
		_, err = f.Write(c.src)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return undo(fmt.Errorf("scaffold: write %s: %w", c.rel, err))
		}
		res.Created = append(res.Created, c.rel)
	}
	for _, c := range changes {
		if !c.edit {
			continue
		}
		if err := replace(p.abs(c.rel), c.src); err != nil {
			return undo(fmt.Errorf("scaffold: %w", err))
		}
		res.Changed = append(res.Changed, c.rel)
	}
	return res, nil
}

// replace writes src over name through a temporary file and a rename, so a
// reader never sees half a file; the mode is kept.
func replace(name string, src []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".msgo-make-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(src); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
