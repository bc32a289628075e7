package scaffold_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"msgo/console/scaffold"
)

// modulesGo is a module list as app/modules.go has it, on a project whose
// module path is not msgo, so nothing in the generator may assume it.
const modulesGo = `package app

import (
	"log/slog"

	"example.com/rt/app/index"
	"example.com/rt/framework"
)

// Register adds every module.
func Register(router *framework.Router, log *slog.Logger) {
	index.Register(router)
	// msgo:modules (msgo make module adds Register calls above this line)
}
`

// fakeProject writes a go.mod, app/modules.go (list) and app/index/index.go,
// enough for the generator, too little to build.
func fakeProject(t *testing.T, list string) *scaffold.Project {
	t.Helper()
	root := t.TempDir()
	write(t, root, "go.mod", "module example.com/rt\n\ngo 1.26\n")
	write(t, root, "app/modules.go", list)
	write(t, root, "app/index/index.go", "package index\n\nfunc Register(any) {}\n")
	p, err := scaffold.Find(filepath.Join(root, "app", "index"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Root != root || p.Path != "example.com/rt" {
		t.Fatalf("Find from app/index: %+v, want root %s", p, root)
	}
	return p
}

func write(t *testing.T, root, rel, src string) {
	t.Helper()
	name := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p *scaffold.Project, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.Root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tree lists every file under the project, to see that a refusal wrote
// nothing.
func tree(t *testing.T, p *scaffold.Project) string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(p.Root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(p.Root, path)
		files = append(files, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(files, " ")
}

func TestCheckName(t *testing.T) {
	for name, want := range map[string]string{
		"shop":      "",
		"cart2":     "",
		"":          "empty",
		"Shop":      "lower-case letters and digits",
		"my_shop":   "lower-case letters and digits",
		"2shop":     "lower-case letters and digits",
		"shop-x":    "lower-case letters and digits",
		"café":      "lower-case letters and digits",
		"func":      "Go keyword",
		"type":      "Go keyword",
		"string":    "predeclared",
		"len":       "predeclared",
		"main":      "taken",
		"internal":  "taken",
		"testdata":  "taken",
		"testing":   "taken",
		"framework": "taken",
	} {
		err := scaffold.CheckName("module", name)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", name, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one saying %q", name, err, want)
		}
	}
}

// TestModuleWiring adds two modules to the list: each import lands sorted in
// the app group and each call above the marker, with the list's own name
// for the router.
func TestModuleWiring(t *testing.T) {
	p := fakeProject(t, modulesGo)
	for _, name := range []string{"shop", "blog"} {
		res, err := p.Module(name)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"app/" + name + "/doc.go", "app/" + name + "/register.go", "app/" + name + "/index.go", "app/" + name + "/index_test.go"}
		if strings.Join(res.Created, " ") != strings.Join(want, " ") || strings.Join(res.Changed, " ") != "app/modules.go" {
			t.Fatalf("Module(%s) = %+v", name, res)
		}
	}
	got := read(t, p, "app/modules.go")
	want := `package app

import (
	"log/slog"

	"example.com/rt/app/blog"
	"example.com/rt/app/index"
	"example.com/rt/app/shop"
	"example.com/rt/framework"
)

// Register adds every module.
func Register(router *framework.Router, log *slog.Logger) {
	index.Register(router)
	shop.Register(router)
	blog.Register(router)
	// msgo:modules (msgo make module adds Register calls above this line)
}
`
	if got != want {
		t.Fatalf("app/modules.go:\n%s\nwant:\n%s", got, want)
	}
	if reg := read(t, p, "app/shop/register.go"); !strings.Contains(reg, "import \"example.com/rt/framework\"") ||
		!strings.Contains(reg, "\t// msgo:routes") {
		t.Fatalf("app/shop/register.go:\n%s", reg)
	}
}

// TestControllerWiring adds a controller: its route goes above the marker in
// the module's Register.
func TestControllerWiring(t *testing.T) {
	p := fakeProject(t, modulesGo)
	if _, err := p.Module("shop"); err != nil {
		t.Fatal(err)
	}
	res, err := p.Controller("shop", "cart")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Created, " ") != "app/shop/cart.go app/shop/cart_test.go" || strings.Join(res.Changed, " ") != "app/shop/register.go" {
		t.Fatalf("Controller = %+v", res)
	}
	reg := read(t, p, "app/shop/register.go")
	if !strings.Contains(reg, "\tr.Handle(\"shop.cart.hello\", Cart{}.Hello)\n\t// msgo:routes") {
		t.Fatalf("app/shop/register.go:\n%s", reg)
	}
	if src := read(t, p, "app/shop/cart.go"); !strings.Contains(src, "type Cart struct{}") {
		t.Fatalf("app/shop/cart.go:\n%s", src)
	}
}

// TestRefusals: every refusal says why and writes nothing.
func TestRefusals(t *testing.T) {
	noMarker := strings.Replace(modulesGo, "// msgo:modules", "// the modules", 1)
	for _, c := range []struct {
		name string
		list string
		prep func(t *testing.T, p *scaffold.Project)
		run  func(p *scaffold.Project) error
		want string
	}{
		{"bad module name", modulesGo, nil, mod("Shop"), "lower-case letters and digits"},
		{"keyword", modulesGo, nil, mod("go"), "Go keyword"},
		{"existing module", modulesGo, nil, mod("index"), "app/index already exists"},
		{"name used in the list", modulesGo, nil, mod("slog"), "taken"},
		{"identifier in the list", modulesGo, nil, mod("router"), `clashes with the identifier router already used in app/modules.go`},
		{"list without marker", noMarker, nil, mod("shop"), `has no "// msgo:modules" line`},
		{"no such module", modulesGo, nil, ctl("shop", "cart"), "there is no module app/shop: create it with msgo make module shop"},
		{"bad controller name", modulesGo, made, ctl("shop", "Cart"), "lower-case letters and digits"},
		{"existing file", modulesGo, made, ctl("shop", "register"), "app/shop/register.go already exists"},
		{"existing test file", modulesGo, func(t *testing.T, p *scaffold.Project) {
			made(t, p)
			write(t, p.Root, "app/shop/cart_test.go", "package shop_test\n")
		}, ctl("shop", "cart"), "app/shop/cart_test.go already exists"},
		{"existing type", modulesGo, func(t *testing.T, p *scaffold.Project) {
			made(t, p)
			write(t, p.Root, "app/shop/types.go", "package shop\n\ntype Cart int\n")
		}, ctl("shop", "cart"), "package shop already declares Cart"},
		{"module without marker", modulesGo, nil, ctl("index", "cart"), `app/index has no "// msgo:routes" line`},
		{"package named otherwise", modulesGo, func(t *testing.T, p *scaffold.Project) {
			write(t, p.Root, "app/other/x.go", "package notother\n")
		}, ctl("other", "cart"), "holds package notother"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := fakeProject(t, c.list)
			if c.prep != nil {
				c.prep(t, p)
			}
			before, list := tree(t, p), read(t, p, "app/modules.go")
			err := c.run(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if after := tree(t, p); after != before {
				t.Fatalf("a refusal wrote files:\nbefore %s\nafter  %s", before, after)
			}
			if read(t, p, "app/modules.go") != list {
				t.Fatalf("a refusal changed app/modules.go")
			}
		})
	}
}

func mod(name string) func(*scaffold.Project) error {
	return func(p *scaffold.Project) error { _, err := p.Module(name); return err }
}

func ctl(module, name string) func(*scaffold.Project) error {
	return func(p *scaffold.Project) error { _, err := p.Controller(module, name); return err }
}

// made generates the shop module, for refusals of controllers in it.
func made(t *testing.T, p *scaffold.Project) {
	t.Helper()
	if _, err := p.Module("shop"); err != nil {
		t.Fatal(err)
	}
}

func TestFindWithoutGoMod(t *testing.T) {
	if _, err := scaffold.Find(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Fatalf("Find in a bare directory: %v", err)
	}
}
