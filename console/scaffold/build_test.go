package scaffold_test

import (
	"bufio"
	"bytes"
	"errors"
	"go/format"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"msgo/console/scaffold"
)

// TestGeneratedCodeBuilds generates into a copy of this repository, as a
// developer would, and builds and tests the result there: a module and a
// controller made by the package functions, and the guide's shop module
// made by the msgo binary with the guide's own commands and files. The
// copy uses the module cache only (GOPROXY=off).
func TestGeneratedCodeBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the repository in a temporary copy")
	}
	here, err := scaffold.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	copyTree(t, here.Root, root)
	p := &scaffold.Project{Root: root, Path: here.Path}
	// The binary comes from this checkout, where its build is cached.
	run(t, here.Root, "go", "build", "-o", filepath.Join(root, "bin", "msgo"), "./console")

	if _, err := p.Module("blog"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Controller("blog", "post"); err != nil {
		t.Fatal(err)
	}
	run(t, root, "go", "test", "-count=1", "./app/blog/...")

	t.Run("guide", func(t *testing.T) { followGuide(t, root) })

	// The command refuses as the functions do: exit status 1, the reason on
	// standard error, nothing written.
	for _, args := range [][]string{{"make", "module", "shop"}, {"make", "module", "Shop"}, {"make", "controller", "shop", "product"}} {
		cmd := exec.Command(filepath.Join(root, "bin", "msgo"), args...)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); cmd.ProcessState.ExitCode() != 1 || !strings.HasPrefix(stderr.String(), "msgo: ") {
			t.Errorf("msgo %s: %v, stderr %q; want exit 1 and the reason", strings.Join(args, " "), err, stderr.String())
		}
	}

	// The list and the generated modules pass vet. The other modules are
	// vetted where they live (make vet); vetting them here too would make
	// this test fail on someone else's unfinished test file.
	run(t, root, "go", "vet", "./app", "./app/blog/...", "./app/shop/...")
}

// followGuide does what the README guide says, in order: it runs each command of its
// sh blocks (bin/msgo, go test, go vet; make build was done) and writes each
// Go block to the file its info string names. A Go block without a file,
// or one gofmt would change, fails: every snippet must compile as shown.
func followGuide(t *testing.T, root string) {
	file, guide := guideSection(t, root)
	for _, b := range codeBlocks(guide) {
		switch b.lang {
		case "sh":
			for line := range strings.Lines(b.body) {
				args := strings.Fields(line)
				switch {
				case len(args) == 0 || strings.HasPrefix(args[0], "#") || line == "make build\n":
				case args[0] == "bin/msgo":
					run(t, root, filepath.Join(root, "bin", "msgo"), args[1:]...)
				case args[0] == "go" && (args[1] == "test" || args[1] == "vet"):
					run(t, root, "go", args[1:]...)
				default:
					t.Fatalf("%s line %d: a command this test cannot follow: %q", file, b.line, line)
				}
			}
		case "go":
			if b.file == "" {
				t.Fatalf("%s line %d: a Go block must name its file (```go app/x/y.go) so it is compiled", file, b.line)
			}
			if src, err := format.Source([]byte(b.body)); err != nil || string(src) != b.body {
				t.Fatalf("%s line %d (%s) is not gofmt-ed: %v", file, b.line, b.file, err)
			}
			name := filepath.Join(root, filepath.FromSlash(b.file))
			if err := os.WriteFile(name, []byte(b.body), 0o644); err != nil {
				t.Fatalf("%s line %d: %v", file, b.line, err)
			}
		}
	}
}

// guideHeading opens the guide's section in the README.
const guideHeading = "## Add a module in five minutes"

// guideSection returns the guide's section, from its heading to the next
// heading of its level, with line numbers kept.
func guideSection(t *testing.T, root string) (file string, section []byte) {
	t.Helper()
	for _, file := range []string{filepath.Join(root, "README.md")} {
		md, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		in := false
		for line := range strings.Lines(string(md)) {
			switch {
			case strings.TrimSpace(line) == guideHeading:
				in = true
			case in && strings.HasPrefix(line, "## "):
				in = false
			}
			if in {
				out = append(out, line...)
			} else {
				out = append(out, '\n') // keeps line numbers
			}
		}
		if bytes.Contains(out, []byte(guideHeading)) {
			return filepath.Base(file), out
		}
	}
	t.Fatalf("no %q section in README.md", guideHeading)
	return "", nil
}

type codeBlock struct {
	lang, file, body string
	line             int // of the opening fence
}

// codeBlocks returns the fenced blocks of a Markdown text; the info string
// is the language, then optionally a file path.
func codeBlocks(md []byte) []codeBlock {
	var out []codeBlock
	var cur *codeBlock
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			info := strings.Fields(strings.TrimPrefix(line, "```"))
			cur = &codeBlock{line: n}
			if len(info) > 0 {
				cur.lang = info[0]
			}
			if len(info) > 1 {
				cur.file = info[1]
			}
		case cur != nil && line == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body += line + "\n"
		}
	}
	return out
}

// run runs a command in dir with the network shut off for the go tool, and
// fails the test with its output if it fails. -trimpath keeps the copy's
// temporary path out of the build cache keys, so a second run reuses the
// first one's packages.
func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	t.Logf("%s %s", filepath.Base(name), strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly -trimpath -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// copyTree copies the regular files of a checkout, leaving out what is not
// source: .git and other dot directories, node_modules, build output and
// runtime state.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	skip := map[string]bool{"node_modules": true, "bin": true, "runtime": true, "test-artifacts": true}
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			if rel != "." && (skip[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(rel, ".test") {
			return nil
		}
		return copyFile(path, filepath.Join(to, rel))
	})
	if err != nil {
		t.Fatalf("copy the repository: %v", err)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
