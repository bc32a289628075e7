package scaffold

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// AppDir is where modules live, relative to the project root.
const AppDir = "app"

// ModulesFile is the module list, relative to the project root.
const ModulesFile = AppDir + "/modules.go"

// Project is a Go module laid out as msgo is: modules under app/, listed in
// app/modules.go.
type Project struct {
	Root string // the directory holding go.mod
	Path string // the module path from go.mod ("msgo")
}

// Result lists what a generation did, as slash-separated paths relative to
// the project root.
type Result struct {
	Created []string
	Changed []string
}

// Find returns the project whose go.mod is in dir or the nearest directory
// above it.
func Find(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("scaffold: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		path, err := modulePath(filepath.Join(d, "go.mod"))
		switch {
		case err == nil:
			return &Project{Root: d, Path: path}, nil
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		case filepath.Dir(d) == d:
			return nil, fmt.Errorf("scaffold: no go.mod in %s or above it: run msgo make from inside the project", abs)
		}
	}
}

// modulePath reads the module directive of a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "module" {
			continue
		}
		if p, err := strconv.Unquote(fields[1]); err == nil {
			return p, nil
		}
		return fields[1], nil
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("scaffold: read %s: %w", gomod, err)
	}
	return "", fmt.Errorf("scaffold: %s has no module directive", gomod)
}

// abs turns a slash-separated project path into a file system path.
func (p *Project) abs(rel string) string { return filepath.Join(p.Root, filepath.FromSlash(rel)) }
