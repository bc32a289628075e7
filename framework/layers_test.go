package framework_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirections holds the layering: imports run one way, from the
// modules down to the transport, and the core and its tests know no module.
//
//	app, console -> framework (root, manager) -> cluster -> library
//	                framework (root)          -> transport
//
// transport imports neither cluster nor the root nor any store; cluster
// does not import the root or the transport; nothing in library imports the
// core; nothing in framework, tests included, imports a module.
func TestImportDirections(t *testing.T) {
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}}|{{join .Imports ","}}|{{join .TestImports ","}}|{{join .XTestImports ","}}`,
		"msgo/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	type rule struct {
		from   string   // package path prefix the rule is about
		never  []string // import path prefixes it must not import
		tests  bool     // the rule covers its tests' imports too
		reason string
	}
	rules := []rule{
		{"msgo/framework/transport", []string{"msgo/framework/cluster", "msgo/framework/manager", "msgo/framework/proxy", "msgo/library/", "msgo/app", "msgo/console"}, true,
			"the transport moves bytes and knows no App, store or module"},
		{"msgo/framework/cluster", []string{"msgo/framework/transport", "msgo/framework/manager", "msgo/framework/proxy", "msgo/app", "msgo/console"}, true,
			"the cluster knows no connection or dispatch"},
		{"msgo/library/", []string{"msgo/framework", "msgo/app", "msgo/console"}, false,
			"library is below the core"},
		{"msgo/framework", []string{"msgo/app", "msgo/console"}, true,
			"the core and its tests know no module"},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		pkg := f[0]
		for _, r := range rules {
			if !under(pkg, r.from) {
				continue
			}
			imports := f[1]
			if r.tests {
				imports += "," + f[2] + "," + f[3]
			}
			for _, imp := range strings.Split(imports, ",") {
				// The root is msgo/framework itself, not every package under it.
				if imp == "msgo/framework" && (r.from == "msgo/framework/transport" || r.from == "msgo/framework/cluster") {
					t.Errorf("%s imports %s: %s", pkg, imp, r.reason)
				}
				for _, bad := range r.never {
					if under(imp, bad) {
						t.Errorf("%s imports %s: %s", pkg, imp, r.reason)
					}
				}
			}
		}
	}
}

// under reports whether pkg is prefix or a package below it (or, for a
// prefix ending in "/", any package starting with it).
func under(pkg, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// TestOtherSystemsStopWithAReason: the transport is Linux-only; elsewhere
// the build stops on one name that says why, not on whatever symbol a
// Linux-only file happened to define.
func TestOtherSystemsStopWithAReason(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the transport for another system")
	}
	cmd := exec.Command("go", "vet", "msgo/framework/transport")
	cmd.Env = append(os.Environ(), "GOOS=darwin")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("go vet for darwin passed; want it to stop with the reason\n%s", out)
	}
	if n := strings.Count(string(out), "undefined:"); n != 1 || !strings.Contains(string(out), "undefined: transportNeedsLinuxEpoll") {
		t.Fatalf("go vet for darwin: want one error naming transportNeedsLinuxEpoll, got\n%s", out)
	}
}
