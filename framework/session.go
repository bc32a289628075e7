package framework

import (
	"encoding/binary"
	"iter"
	"unique"
)

// session is what this package keeps on each connection, inside the
// transport's Conn: who it is, its rate limit, and what to undo when it
// closes. ident is set at the handshake and never changes; bucket is
// touched only by the connection's worker; hooks change under Conn.Edit.
type session struct {
	ident  identity
	bucket bucket
	hooks  *hooks
}

// hooks are what MSwoole calls an fd's close keys and close controllers, and
// the groups it joined: everything to undo when it closes, and the streams
// to cancel then (linked through Stream.next: 16 bytes for a joined
// connection, which rarely has a stream open). routes are the per-route rate
// limiters of a connection that called a route with its own limit; only its
// worker touches them.
type hooks struct {
	list    hookList
	streams *Stream
	routes  []bucket
	resume  *resumable // set once the connection opened a session
}

// hooksOf returns ss's hooks, creating them; the caller is inside Conn.Edit.
func hooksOf(ss *session) *hooks {
	if ss.hooks == nil {
		ss.hooks = &hooks{}
	}
	return ss.hooks
}

// editHooks applies fn to c's hooks; false once c is closing.
func editHooks(c *conn, fn func(h *hooks)) bool {
	ok := false
	c.Edit(func(ss *session, open bool) {
		if open {
			fn(hooksOf(ss))
			ok = true
		}
	})
	return ok
}

// Kinds of entries in a hookList.
const (
	hookCloseKey byte = iota
	hookController
	hookGroup
)

// hookList is a connection's close keys, close controllers and groups, each
// kind in the order added. The connections of one room register the same
// ones, so the list is immutable and interned: they share one copy, and a
// connection keeps 8 bytes instead of three slices and their strings. An
// edit, rare next to the connections it serves, builds a new list. The zero
// value is the empty list.
//
// Encoding: per entry its kind, the name's length as a uvarint, the name.
type hookList struct{ h unique.Handle[string] }

func (l hookList) value() string {
	if l == (hookList{}) {
		return ""
	}
	return l.h.Value()
}

// entries yields every entry in order.
func (l hookList) entries() iter.Seq2[byte, string] {
	return func(yield func(byte, string) bool) {
		s := l.value()
		for len(s) > 0 {
			kind := s[0]
			n, i := 0, 1
			for shift := 0; ; shift += 7 {
				b := s[i]
				i++
				n |= int(b&0x7f) << shift
				if b < 0x80 {
					break
				}
			}
			name := s[i : i+n]
			s = s[i+n:]
			if !yield(kind, name) {
				return
			}
		}
	}
}

// names yields the names of one kind in the order added.
func (l hookList) names(kind byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		for k, name := range l.entries() {
			if k == kind && !yield(name) {
				return
			}
		}
	}
}

// has reports whether an entry of kind has a name match accepts.
func (l hookList) has(kind byte, match func(string) bool) bool {
	for name := range l.names(kind) {
		if match(name) {
			return true
		}
	}
	return false
}

// with returns l with name appended as kind.
func (l hookList) with(kind byte, name string) hookList {
	b := appendHook([]byte(l.value()), kind, name)
	return hookList{unique.Make(string(b))}
}

// without returns l without the entries of kind whose name drop accepts.
func (l hookList) without(kind byte, drop func(string) bool) hookList {
	var b []byte
	removed := false
	for k, name := range l.entries() {
		if k == kind && drop(name) {
			removed = true
			continue
		}
		b = appendHook(b, k, name)
	}
	switch {
	case !removed:
		return l
	case len(b) == 0:
		return hookList{}
	}
	return hookList{unique.Make(string(b))}
}

func appendHook(b []byte, kind byte, name string) []byte {
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(name)))
	return append(b, name...)
}

func equalTo(s string) func(string) bool { return func(x string) bool { return x == s } }
