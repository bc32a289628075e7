// Package wire reads and writes the length-prefixed binary encodings msgo
// hands between processes and nodes: a connection's state, a bus envelope,
// the memory store's snapshot. Numbers are uvarints; a string or a byte
// string is its length then its bytes.
package wire

import (
	"encoding/binary"
	"errors"
)

// ErrMalformed is what a Reader reports after any read past its end or of a
// malformed number.
var ErrMalformed = errors.New("wire: malformed encoding")

// AppendString appends s with its length.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBytes appends p with its length.
func AppendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// InsertUvarint inserts v as a uvarint at b[at:], for a length or a count
// known only once what follows it was appended.
func InsertUvarint(b []byte, at int, v uint64) []byte {
	var tmp [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(tmp[:], v)
	b = append(b, tmp[:n]...)
	copy(b[at+n:], b[at:len(b)-n])
	copy(b[at:], tmp[:n])
	return b
}

// Reader reads an encoding front to back. After the first error every read
// returns a zero value and Err stays set, so a decoder checks once at the end.
type Reader struct {
	b   []byte
	err error
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err reports ErrMalformed once a read failed or Fail was called.
func (r *Reader) Err() error { return r.err }

// Fail marks the encoding malformed, for a decoder that finds a value it
// cannot accept.
func (r *Reader) Fail() { r.err = ErrMalformed }

// Len is how many bytes are left.
func (r *Reader) Len() int { return len(r.b) }

// Rest returns the bytes left and consumes them.
func (r *Reader) Rest() []byte {
	b := r.b
	r.b = nil
	return b
}

// Take returns the next n bytes, not copied. Past the end it returns n
// zero bytes (at least 4, so fixed-size reads need no check).
func (r *Reader) Take(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = ErrMalformed
		return make([]byte, max(n, 4))
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// Byte reads one byte.
func (r *Reader) Byte() byte { return r.Take(1)[0] }

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 || r.err != nil {
		r.err = ErrMalformed
		return 0
	}
	r.b = r.b[k:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 || r.err != nil {
		r.err = ErrMalformed
		return 0
	}
	r.b = r.b[k:]
	return v
}

// Count reads a list's length. A list cannot have more entries than bytes
// are left, which bounds what a malformed count makes a caller allocate.
func (r *Reader) Count() uint64 {
	n := r.Uvarint()
	if n > uint64(len(r.b)) {
		r.err = ErrMalformed
		return 0
	}
	return n
}

// Str reads a length-prefixed string, copied once.
func (r *Reader) Str() string {
	n := r.Count()
	if r.err != nil {
		return ""
	}
	return string(r.Take(int(n)))
}

// Bytes reads a length-prefixed byte string, copied; nil when empty.
func (r *Reader) Bytes() []byte { return append([]byte(nil), r.View()...) }

// View reads a length-prefixed byte string without copying it: it shares
// the Reader's buffer. nil when empty.
func (r *Reader) View() []byte {
	n := r.Count()
	if r.err != nil || n == 0 {
		return nil
	}
	return r.Take(int(n))
}
