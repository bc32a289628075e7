// Package docs holds the project's documentation; its tests keep the
// translations in step with the English originals.
package docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// heading is one Markdown heading outside code blocks.
type heading struct {
	level int
	text  string
	line  int
}

// command is one command line in a code block, with the heading it sits
// under.
type command struct {
	text, under string
}

// commandLine matches a shell line that runs make or msgo.
var commandLine = regexp.MustCompile(`^(\$ )?(make|msgo|bin/msgo|\./bin/msgo)(\s|$)`)

// outline reads a Markdown file's headings and the make / msgo command lines
// of its code blocks (a trailing "# comment" dropped, spaces collapsed, so a
// translated comment does not count as a different command).
func outline(t *testing.T, path string) ([]heading, []command) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hs []heading
	var cmds []command
	fenced := false
	under := "(top)"
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			if m := regexp.MustCompile(`^(#{1,6}) (.+)$`).FindStringSubmatch(line); m != nil {
				hs = append(hs, heading{len(m[1]), strings.TrimSpace(m[2]), n})
				under = m[2]
			}
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.Join(strings.Fields(line), " ")
		if commandLine.MatchString(line) {
			cmds = append(cmds, command{strings.TrimPrefix(line, "$ "), under})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return hs, cmds
}

// TestChineseReadmeInStep: README.zh-CN.md has README.md's sections (the same
// heading levels in the same order) and the same make / msgo commands in its
// code blocks, and each links to the other at the top. A failure names the
// heading or command and where it is missing, for whoever translates.
func TestChineseReadmeInStep(t *testing.T) {
	en, zh := filepath.Join("..", "README.md"), filepath.Join("..", "README.zh-CN.md")
	enH, enC := outline(t, en)
	zhH, zhC := outline(t, zh)

	if len(enH) != len(zhH) {
		t.Errorf("README.md has %d headings, README.zh-CN.md %d: a section was added or removed on one side", len(enH), len(zhH))
	}
	for i := range max(len(enH), len(zhH)) {
		switch {
		case i >= len(zhH):
			e := enH[i]
			t.Errorf("README.md's %s %q (line %d) has no counterpart in README.zh-CN.md: translate it as its heading number %d (after %s)",
				strings.Repeat("#", e.level), e.text, e.line, i+1, after(zhH, i))
		case i >= len(enH):
			z := zhH[i]
			t.Errorf("README.zh-CN.md's %s %q (line %d) has no counterpart in README.md: remove it, or add the English section",
				strings.Repeat("#", z.level), z.text, z.line)
		case enH[i].level != zhH[i].level:
			t.Errorf("heading number %d: README.md has %s %q (line %d), README.zh-CN.md has %s %q (line %d): the first difference in levels is here; a heading at or before it is missing or at another level (the outlines side by side follow)",
				i+1, strings.Repeat("#", enH[i].level), enH[i].text, enH[i].line, strings.Repeat("#", zhH[i].level), zhH[i].text, zhH[i].line)
		default:
			continue
		}
		t.Log(sideBySide(enH, zhH))
		break // after the first difference every later pair is off
	}

	missing := func(from, to []command, fromName, toName string) {
		left := slices.Clone(to)
		for _, c := range from {
			i := slices.IndexFunc(left, func(o command) bool { return o.text == c.text })
			if i < 0 {
				t.Errorf("%s runs `%s` (under %q) but %s does not: add it to the matching code block there", fromName, c.text, c.under, toName)
				continue
			}
			left = slices.Delete(left, i, i+1)
		}
	}
	missing(enC, zhC, "README.md", "README.zh-CN.md")
	missing(zhC, enC, "README.zh-CN.md", "README.md")
	if len(enC) < 10 {
		t.Errorf("only %d commands found in README.md's code blocks", len(enC))
	}

	for _, l := range []struct{ file, link string }{{en, "(README.zh-CN.md)"}, {zh, "(README.md)"}} {
		b, err := os.ReadFile(l.file)
		if err != nil {
			t.Fatal(err)
		}
		top := strings.Join(strings.SplitN(string(b), "\n", 6)[:5], "\n")
		if !strings.Contains(top, l.link) {
			t.Errorf("%s does not link to %s in its first lines", filepath.Base(l.file), strings.Trim(l.link, "()"))
		}
	}
}

// sideBySide lists both outlines, one heading per line, for finding the
// section that is missing on one side.
func sideBySide(en, zh []heading) string {
	var b strings.Builder
	b.WriteString("README.md | README.zh-CN.md\n")
	for i := range max(len(en), len(zh)) {
		var l, r string
		if i < len(en) {
			l = strings.Repeat("#", en[i].level) + " " + en[i].text
		}
		if i < len(zh) {
			r = strings.Repeat("#", zh[i].level) + " " + zh[i].text
		}
		fmt.Fprintf(&b, "%2d  %-45s | %s\n", i+1, l, r)
	}
	return b.String()
}

func after(hs []heading, i int) string {
	if i == 0 || i > len(hs) {
		return "the top"
	}
	return fmt.Sprintf("%q", hs[i-1].text)
}
