package framework

import (
	"encoding/binary"
	"iter"
	"unique"
)

// hooks are what MSwoole calls an fd's close keys and close controllers, and
// the groups it joined: everything to undo when it closes, and the streams
// to cancel then (linked through Stream.next: 16 bytes for a joined
// connection, which rarely has a stream open).
type hooks struct {
	list    hookList
	streams *Stream
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
