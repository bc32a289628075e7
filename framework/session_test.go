package framework

import (
	"slices"
	"strings"
	"testing"
)

// TestHookList edits a list the way connections do: kinds stay apart and in
// order, long names survive the length prefix, equal lists are one value.
func TestHookList(t *testing.T) {
	long := strings.Repeat("g", 300)
	var l hookList
	l = l.with(hookGroup, "a").with(hookCloseKey, "k").with(hookGroup, long).with(hookController, "C")
	if got := slices.Collect(l.names(hookGroup)); !slices.Equal(got, []string{"a", long}) {
		t.Fatalf("groups %q", got)
	}
	if !l.has(hookCloseKey, equalTo("k")) || l.has(hookCloseKey, equalTo("a")) {
		t.Fatal("close key lookup")
	}
	same := hookList{}.with(hookGroup, "a").with(hookCloseKey, "k").with(hookGroup, long).with(hookController, "C")
	if same != l {
		t.Fatal("equal lists are not interned as one")
	}
	l = l.without(hookGroup, equalTo("a"))
	if got := slices.Collect(l.names(hookGroup)); !slices.Equal(got, []string{long}) {
		t.Fatalf("groups after removal %q", got)
	}
	if l.without(hookGroup, equalTo("x")) != l {
		t.Fatal("removing nothing changed the list")
	}
	l = l.without(hookGroup, equalTo(long)).without(hookCloseKey, equalTo("k")).without(hookController, equalTo("C"))
	if l != (hookList{}) {
		t.Fatalf("emptied list is %q", l.value())
	}
}
