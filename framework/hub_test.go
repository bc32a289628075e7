package framework

import (
	"slices"
	"testing"
)

// TestHubUserDevices indexes three connections of one user and removes
// them in an order that moves the first one's place to another.
func TestHubUserDevices(t *testing.T) {
	h := newHub()
	a, b, c := &conn{id: 1}, &conn{id: 2}, &conn{id: 3}
	if !h.addUser("u", a) || h.addUser("u", b) || h.addUser("u", c) {
		t.Fatal("only the first connection is the user's first")
	}
	conns := func() []*conn {
		cs := h.userConns(nil, "u")
		slices.SortFunc(cs, func(x, y *conn) int { return int(x.id) - int(y.id) })
		return cs
	}
	if cs := conns(); !slices.Equal(cs, []*conn{a, b, c}) {
		t.Fatalf("connections %v", cs)
	}
	n := 0
	h.users(func(_ string, conns int) { n = conns })
	if n != 3 {
		t.Fatalf("users counts %d connections", n)
	}
	if h.removeUser("u", a) {
		t.Fatal("removing the first of three: last")
	}
	if cs := conns(); !slices.Equal(cs, []*conn{b, c}) {
		t.Fatalf("after removing a: %v", cs)
	}
	if h.removeUser("u", b) || !h.removeUser("u", c) {
		t.Fatal("only the third removal is the last")
	}
	if cs := conns(); len(cs) != 0 {
		t.Fatalf("after removing all: %v", cs)
	}
}
