package cluster

import (
	"slices"
	"testing"
)

// conn is a test member: an id and a user.
type conn struct {
	id   int
	user string
}

func newHub() *Hub[*conn] { return NewHub(func(c *conn) string { return c.user }) }

// TestHubUserDevices indexes three connections of one user and removes
// them in an order that moves the first one's place to another.
func TestHubUserDevices(t *testing.T) {
	h := newHub()
	a, b, c := &conn{id: 1}, &conn{id: 2}, &conn{id: 3}
	if !h.AddUser("u", a) || h.AddUser("u", b) || h.AddUser("u", c) {
		t.Fatal("only the first connection is the user's first")
	}
	conns := func() []*conn {
		cs := h.UserMembers(nil, "u")
		slices.SortFunc(cs, func(x, y *conn) int { return x.id - y.id })
		return cs
	}
	if cs := conns(); !slices.Equal(cs, []*conn{a, b, c}) {
		t.Fatalf("connections %v", cs)
	}
	n := 0
	h.Users(func(_ string, conns int) { n = conns })
	if n != 3 {
		t.Fatalf("users counts %d connections", n)
	}
	if h.RemoveUser("u", a) {
		t.Fatal("removing the first of three: last")
	}
	if cs := conns(); !slices.Equal(cs, []*conn{b, c}) {
		t.Fatalf("after removing a: %v", cs)
	}
	if h.RemoveUser("u", b) || !h.RemoveUser("u", c) {
		t.Fatal("only the third removal is the last")
	}
	if cs := conns(); len(cs) != 0 {
		t.Fatalf("after removing all: %v", cs)
	}
}

// TestHubGroupIndex grows a group past groupIndexMin and shrinks it below
// half of it, removing from the middle: members and the first and last
// connection of a user stay exact either way. Connections 0 and 1 are user
// a's, the others user u's.
func TestHubGroupIndex(t *testing.T) {
	h := newHub()
	n := groupIndexMin + 50
	cs := make([]*conn, n)
	for i := range cs {
		cs[i] = &conn{id: i + 1, user: "u"}
		if i < 2 {
			cs[i].user = "a"
		}
		added, first, firstOfUser := h.Join("g", cs[i])
		if !added || first != (i == 0) || firstOfUser != (i == 0 || i == 2) {
			t.Fatalf("join %d: added %v first %v firstOfUser %v", i, added, first, firstOfUser)
		}
	}
	if added, _, _ := h.Join("g", cs[n/2]); added {
		t.Fatal("a member joined twice")
	}
	left := map[*conn]bool{}
	for i := 0; i < n; i += 2 { // every other one, from the front
		removed, last, lastOfUser := h.Leave("g", cs[i])
		if !removed || last || lastOfUser {
			t.Fatalf("leave %d: removed %v last %v lastOfUser %v", i, removed, last, lastOfUser)
		}
		left[cs[i]] = true
		if removed, _, _ := h.Leave("g", cs[i]); removed {
			t.Fatalf("left %d twice", i)
		}
	}
	got := h.GroupMembers(nil, "g")
	if len(got) != n-len(left) {
		t.Fatalf("%d members, want %d", len(got), n-len(left))
	}
	for _, c := range got {
		if left[c] {
			t.Fatalf("connection %d left but is a member", c.id)
		}
	}
	for i := 1; i < n; i += 2 {
		_, last, lastOfUser := h.Leave("g", cs[i])
		if want := i == n-1; last != want || lastOfUser != (want || i == 1) {
			t.Fatalf("leave %d: last %v lastOfUser %v", i, last, lastOfUser)
		}
	}
}
