package wire

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestRoundTripAndTruncation(t *testing.T) {
	b := AppendString(nil, "héllo")
	b = binary.AppendUvarint(b, 300)
	b = binary.AppendVarint(b, -7)
	b = AppendBytes(b, []byte{1, 2, 3})
	b = AppendBytes(b, nil)
	b = append(b, 9, 'r', 'e', 's', 't')

	r := NewReader(b)
	if s, n, v, p, q, c := r.Str(), r.Uvarint(), r.Varint(), r.Bytes(), r.Bytes(), r.Byte(); s != "héllo" || n != 300 || v != -7 ||
		!bytes.Equal(p, []byte{1, 2, 3}) || q != nil || c != 9 || r.Err() != nil {
		t.Fatalf("read %q %d %d %v %v %d, err %v", s, n, v, p, q, c, r.Err())
	}
	if rest := r.Rest(); string(rest) != "rest" || r.Len() != 0 {
		t.Fatalf("rest %q, %d left", rest, r.Len())
	}

	// Every truncation of the first string fails, and reads after it
	// return zero values.
	for i := range len(AppendString(nil, "héllo")) {
		r := NewReader(b[:i])
		if s, n := r.Str(), r.Uvarint(); r.Err() == nil || s != "" || n != 0 {
			t.Fatalf("truncated at %d: %q %d, err %v", i, s, n, r.Err())
		}
	}
	// A count larger than what is left fails without allocating for it.
	r = NewReader(binary.AppendUvarint(nil, 1<<40))
	if n := r.Count(); n != 0 || r.Err() == nil {
		t.Fatalf("count %d, err %v", n, r.Err())
	}
	r = NewReader([]byte{1})
	if r.Fail(); r.Err() != ErrMalformed {
		t.Fatalf("after Fail: %v", r.Err())
	}
}

// TestInsertUvarintAndView: a length inserted in front of what it counts
// reads back, and View shares the buffer where Bytes copies.
func TestInsertUvarintAndView(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 300) // a two-byte length
	b := append([]byte("head"), payload...)
	b = InsertUvarint(b, 4, uint64(len(payload)))
	r := NewReader(b[4:])
	v := r.View()
	if !bytes.Equal(v, payload) || r.Len() != 0 || r.Err() != nil {
		t.Fatalf("read back %d bytes, %d left, %v", len(v), r.Len(), r.Err())
	}
	v[0] = 'y'
	if b[6] != 'y' {
		t.Fatal("View copied")
	}
	c := NewReader(b[4:]).Bytes()
	c[0] = 'z'
	if b[6] != 'y' {
		t.Fatal("Bytes shares the buffer")
	}
}
