package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOperationsDocListsEveryKey: every key the loader knows, and its
// environment variable, is in docs/operations.md's configuration tables, so
// a new setting cannot ship undocumented.
func TestOperationsDocListsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, s := range settings(Default()) {
		row := "| `" + s.path + "` | `" + EnvName(s.path) + "` |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/operations.md has no row for %s: add %q with its default and meaning to the %s table under Configuration",
				s.path, row+" default | meaning |", fileOf(strings.SplitN(s.path, ".", 2)[0]))
		}
	}
}
