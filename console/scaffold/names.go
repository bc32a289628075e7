package scaffold

import (
	"fmt"
	"go/token"
	"go/types"
	"regexp"
)

// nameRE is what a module or controller name may look like: it becomes a Go
// package or file name and a part of "module.controller.action", so it is
// lower-case letters and digits, starting with a letter. Underscores are
// left out: they are not idiomatic in package names and give file names
// build-constraint meanings (cart_linux.go).
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

// taken are names the generated code or the go tool already use: the
// packages the templates import, and directories the go tool treats
// specially.
var taken = map[string]string{
	"main":      "the package of commands",
	"internal":  "a directory the go tool restricts imports of",
	"testdata":  "a directory the go tool ignores",
	"vendor":    "a directory the go tool ignores",
	"app":       "the package of app/modules.go",
	"context":   "a package the generated code imports",
	"slog":      "a package the generated code imports",
	"testing":   "a package the generated tests import",
	"framework": "a package the generated code imports",
	"msgotest":  "a package the generated tests import",
}

// CheckName reports whether name can name a module or a controller, and
// why not in a message meant for the person who typed it. It does not look
// at the project; Project.Module and Project.Controller also refuse names
// that clash with what is already there.
func CheckName(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s name is empty", kind)
	case !nameRE.MatchString(name):
		return fmt.Errorf("%s name %q: use lower-case letters and digits, starting with a letter (like shop or cart2)", kind, name)
	case token.IsKeyword(name):
		return fmt.Errorf("%s name %q is a Go keyword", kind, name)
	case types.Universe.Lookup(name) != nil:
		return fmt.Errorf("%s name %q is a predeclared Go identifier", kind, name)
	case taken[name] != "":
		return fmt.Errorf("%s name %q is taken: it is %s", kind, name, taken[name])
	}
	return nil
}
