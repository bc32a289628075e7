package scaffold

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Controller generates app/<module>/<name>.go (a controller type with one
// action, <module>.<name>.hello) and <name>_test.go, and registers the route
// at the routes marker of the module's Register. It refuses an invalid
// name, one whose files or type exist, and a module without the marker,
// before writing anything.
func (p *Project) Controller(module, name string) (Result, error) {
	if err := CheckName("controller", name); err != nil {
		return Result{}, err
	}
	dir := AppDir + "/" + module
	pkg, err := p.readPackage(dir)
	if err != nil {
		return Result{}, err
	}
	if pkg.name != module {
		return Result{}, fmt.Errorf("%s holds package %s, not %s: msgo make controller needs the directory and the package to share a name", dir, pkg.name, module)
	}
	file, test := dir+"/"+name+".go", dir+"/"+name+"_test.go"
	for _, f := range []string{file, test} {
		if _, err := os.Stat(p.abs(f)); !errors.Is(err, fs.ErrNotExist) {
			return Result{}, fmt.Errorf("%s already exists: msgo make never overwrites a file", f)
		}
	}
	n := p.names(module, name)
	if slices.Contains(pkg.decls, n.Type) {
		return Result{}, fmt.Errorf("package %s already declares %s: pick another controller name", module, n.Type)
	}
	route, err := p.wireRoute(pkg, n)
	if err != nil {
		return Result{}, err
	}
	changes := []change{}
	for _, f := range []struct{ tmpl, rel string }{
		{"controller.go.tmpl", file},
		{"controller_test.go.tmpl", test},
	} {
		src, err := render(f.tmpl, n)
		if err != nil {
			return Result{}, err
		}
		changes = append(changes, change{rel: f.rel, src: src})
	}
	return p.apply("", append(changes, route))
}

// pkgInfo is what Controller needs to know of a module's package.
type pkgInfo struct {
	dir   string
	name  string
	decls []string // top-level names
	files []string // non-test .go files, slash-separated, relative to the root
}

func (p *Project) readPackage(dir string) (pkgInfo, error) {
	info := pkgInfo{dir: dir}
	ents, err := os.ReadDir(p.abs(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return info, fmt.Errorf("there is no module %s: create it with msgo make module %s", dir, filepath.Base(dir))
	}
	if err != nil {
		return info, fmt.Errorf("scaffold: %w", err)
	}
	fset := token.NewFileSet()
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		rel := dir + "/" + e.Name()
		f, err := parser.ParseFile(fset, p.abs(rel), nil, parser.SkipObjectResolution)
		if err != nil {
			return info, fmt.Errorf("%s does not parse; fix it first: %w", rel, err)
		}
		info.name = f.Name.Name
		info.files = append(info.files, rel)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					info.decls = append(info.decls, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						info.decls = append(info.decls, s.Name.Name)
					case *ast.ValueSpec:
						for _, id := range s.Names {
							info.decls = append(info.decls, id.Name)
						}
					}
				}
			}
		}
	}
	if info.files == nil {
		return info, fmt.Errorf("%s has no Go files: it is not a module", dir)
	}
	return info, nil
}

// wireRoute returns the edit that registers the controller's action at the
// routes marker of the module.
func (p *Project) wireRoute(pkg pkgInfo, n names) (change, error) {
	method := n.Module + "." + n.Controller + ".hello"
	for _, rel := range pkg.files {
		src, err := os.ReadFile(p.abs(rel))
		if err != nil {
			return change{}, fmt.Errorf("scaffold: %w", err)
		}
		at, indent := findMarker(src, RoutesMarker)
		if at < 0 {
			continue
		}
		line := fmt.Sprintf("%s.Handle(%q, %s{}.Hello)", routerParam(src, at), method, n.Type)
		out := insertLine(src, at, indent, line)
		out, err = gofmt(rel, out)
		if err != nil {
			return change{}, err
		}
		return change{rel: rel, src: out, edit: true}, nil
	}
	return change{}, fmt.Errorf("%s has no %q line, so msgo make cannot register %s: put that comment line where the module registers its routes (modules made by msgo make module have it in Register), then retry",
		pkg.dir, RoutesMarker, method)
}
