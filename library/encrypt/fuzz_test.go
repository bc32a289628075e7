package encrypt

import (
	"errors"
	"testing"
)

// FuzzParse feeds Parse arbitrary tokens, and tokens sealed around arbitrary
// claims text with one byte flipped: it never panics, every refusal wraps
// one of the package's errors, and no changed byte of a sealed token is
// accepted (a tampered token never names a user).
func FuzzParse(f *testing.F) {
	c := newTestCodec("fuzz-secret")
	valid, err := c.Mint(Claims{ID: "u1", Type: TypeWechatUser, Code: "r1"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct {
		token, plain string
		flip         uint16
	}{
		{valid, `{"id":"u1","type":"wechatUser","ctime":1700000000}`, 0},
		{"", `{"id":"","type":"kefu","ctime":1700000000}`, 3},
		{"AAAA", `{"id":"victim ","type":"kefu","ctime":1700000000}`, 40},
		{valid + "\n", `{"id":"a","id":"b","type":"wall","ctime":1700000000}`, 1},
		{"====", `{"type":"wechatUser","ctime":1700000000}`, 7},
		{"a.b.c", `not json`, 9},
	} {
		f.Add(s.token, s.plain, s.flip)
	}
	refusals := []error{ErrMalformed, ErrDecrypt, ErrBadType, ErrExpired, ErrFuture}
	known := func(err error) bool {
		for _, e := range refusals {
			if errors.Is(err, e) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, token, plain string, flip uint16) {
		if cl, err := c.Parse([]byte(token)); err != nil && !known(err) {
			t.Fatalf("%q: unclassified refusal %v", token, err)
		} else if err == nil && knownType([]byte(cl.Type)) == "" {
			t.Fatalf("%q: accepted with type %q", token, cl.Type)
		}
		sealed := seal(c, plain)
		if _, err := c.Parse([]byte(sealed)); err != nil && !known(err) {
			t.Fatalf("sealed %q: unclassified refusal %v", plain, err)
		}
		b := []byte(sealed)
		i := int(flip) % len(b)
		b[i] ^= 1 + byte(flip>>8)%0x7f // a different byte, never the same one
		if cl, err := c.Parse(b); err == nil {
			t.Fatalf("sealed %q with byte %d changed: accepted as %+v", plain, i, cl)
		}
	})
}
