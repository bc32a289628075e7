package scaffold

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"strings"
	"text/template"
)

// Marker comments: generated code is wired in on the line above them.
const (
	// ModulesMarker sits in app.Register, where module Register calls go.
	ModulesMarker = "// msgo:modules"
	// RoutesMarker sits in a module's Register, where its routes go.
	RoutesMarker = "// msgo:routes"
)

//go:embed templates
var templateFS embed.FS

var templates = template.Must(template.New("").ParseFS(templateFS, "templates/*/*.tmpl"))

// names fills the templates.
type names struct {
	Mod          string // the project's module path, "msgo"
	Module       string // the module's package name, "shop"
	ImportPath   string // "msgo/app/shop"
	Title        string // "Shop", as MSwoole spelled module directories
	Controller   string // "cart"
	Type         string // "Cart", the controller's type
	RoutesMarker string
}

func (p *Project) names(module, controller string) names {
	return names{
		Mod:          p.Path,
		Module:       module,
		ImportPath:   p.Path + "/" + AppDir + "/" + module,
		Title:        title(module),
		Controller:   controller,
		Type:         title(controller),
		RoutesMarker: RoutesMarker + " (`msgo make controller " + module + " NAME` adds routes above this line)",
	}
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// render executes a template and gofmts the result; a template that does
// not give valid Go is a bug in this package, reported as such.
func render(name string, n names) ([]byte, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, n); err != nil {
		return nil, fmt.Errorf("scaffold: template %s: %w", name, err)
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("scaffold: template %s gives invalid Go: %w", name, err)
	}
	return src, nil
}
