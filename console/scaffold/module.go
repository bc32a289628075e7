package scaffold

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
)

// Module generates app/<name>: doc.go, register.go (Register, with the
// routes marker), index.go (the Index controller: one action and a close
// controller) and index_test.go (a test on msgotest), and adds the import
// and a `<name>.Register(r)` line to app/modules.go. It refuses an invalid
// name, a name already used there, and an existing app/<name>, before
// writing anything.
func (p *Project) Module(name string) (Result, error) {
	if err := CheckName("module", name); err != nil {
		return Result{}, err
	}
	dir := AppDir + "/" + name
	if _, err := os.Stat(p.abs(dir)); !errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			return Result{}, fmt.Errorf("%s already exists: pick another module name, or add a controller to it with msgo make controller %s NAME", dir, name)
		}
		return Result{}, fmt.Errorf("scaffold: %w", err)
	}
	list, err := p.wireModule(name)
	if err != nil {
		return Result{}, err
	}
	n := p.names(name, "index")
	changes := []change{}
	for _, f := range []struct{ tmpl, file string }{
		{"doc.go.tmpl", "doc.go"},
		{"register.go.tmpl", "register.go"},
		{"index.go.tmpl", "index.go"},
		{"index_test.go.tmpl", "index_test.go"},
	} {
		src, err := render(f.tmpl, n)
		if err != nil {
			return Result{}, err
		}
		changes = append(changes, change{rel: dir + "/" + f.file, src: src})
	}
	changes = append(changes, change{rel: ModulesFile, src: list, edit: true})
	return p.apply(dir, changes)
}

// wireModule returns app/modules.go importing the module and calling its
// Register at the modules marker.
func (p *Project) wireModule(name string) ([]byte, error) {
	src, err := os.ReadFile(p.abs(ModulesFile))
	if err != nil {
		return nil, fmt.Errorf("scaffold: the module list: %w", err)
	}
	if used := identifiers(src); used[name] {
		return nil, fmt.Errorf("module name %q clashes with the identifier %s already used in %s", name, name, ModulesFile)
	}
	at, indent := findMarker(src, ModulesMarker)
	if at < 0 {
		return nil, fmt.Errorf("%s has no %q line in its Register: add the import %q and the line %s.Register(r) there by hand, or add the marker",
			ModulesFile, ModulesMarker, p.Path+"/"+AppDir+"/"+name, name)
	}
	out := insertLine(src, at, indent, name+".Register("+routerParam(src, at)+")")
	out, err = addImport(out, p.Path+"/"+AppDir+"/"+name, p.Path+"/"+AppDir+"/")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ModulesFile, err)
	}
	return gofmt(ModulesFile, out)
}

// identifiers returns every identifier in a Go file (imports' names, types,
// functions, variables), or none when it does not parse.
func identifiers(src []byte) map[string]bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	used := make(map[string]bool)
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			used[id.Name] = true
		}
		return true
	})
	for _, is := range f.Imports {
		if is.Name == nil {
			used[lastElem(importPath(is))] = true
		}
	}
	return used
}

func lastElem(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}
