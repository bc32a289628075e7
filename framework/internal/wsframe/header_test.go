package wsframe

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"
)

func TestParseHeaderLengths(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20} {
		f := ws.NewTextFrame(make([]byte, n))
		f = ws.MaskFrameInPlace(f)
		var buf bytes.Buffer
		if err := ws.WriteHeader(&buf, f.Header); err != nil {
			t.Fatal(err)
		}
		h, hn, err := ParseHeader(buf.Bytes())
		if err != nil {
			t.Fatalf("len %d: %v", n, err)
		}
		if hn != buf.Len() || h.Length != int64(n) || !h.Masked || h.Op != OpText || !h.Fin {
			t.Fatalf("len %d: got %+v (%d bytes), header was %d bytes", n, h, hn, buf.Len())
		}
		for i := 0; i < buf.Len(); i++ {
			if _, _, err := ParseHeader(buf.Bytes()[:i]); err != ErrShort {
				t.Fatalf("len %d prefix %d: want ErrShort, got %v", n, i, err)
			}
		}
	}
}

func TestParseHeaderProtocolErrors(t *testing.T) {
	cases := map[string][]byte{
		"reserved opcode":     {0x83, 0x80, 0, 0, 0, 0},
		"fragmented ping":     {0x09, 0x80, 0, 0, 0, 0},
		"long ping":           {0x89, 0xFE, 0, 126, 0, 0, 0, 0},
		"64-bit top bit set":  {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"reserved control op": {0x8B, 0x80, 0, 0, 0, 0},
	}
	for name, b := range cases {
		_, _, err := ParseHeader(b)
		var pe ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("%s: want ProtocolError, got %v", name, err)
		}
	}
}

func TestUnmaskMatchesGobwas(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	for n := 0; n < 40; n++ {
		a := bytes.Repeat([]byte{0xA5}, n)
		b := bytes.Clone(a)
		Unmask(a, mask)
		ws.Cipher(b, mask, 0)
		if !bytes.Equal(a, b) {
			t.Fatalf("n=%d mismatch", n)
		}
	}
}

func TestCloseCodes(t *testing.T) {
	for _, c := range []struct {
		p       []byte
		code    int
		ok, utf bool
	}{
		{nil, CloseNoStatus, true, false},
		{[]byte{3}, 0, false, false},
		{[]byte{0x03, 0xE8}, 1000, true, false},
		{[]byte{0x03, 0xED}, 1005, false, false},
		{[]byte{0x03, 0xEE}, 1006, false, false},
		{[]byte{0x03, 0xF7}, 1015, false, false},
		{[]byte{0x0B, 0xB8}, 3000, true, false},
		{[]byte{0x03, 0xE8, 0xFF}, 1000, false, true},
	} {
		code, ok, bad := ParseClose(c.p)
		if code != c.code || ok != c.ok || bad != c.utf {
			t.Errorf("%x: got %d %v %v", c.p, code, ok, bad)
		}
	}
	f := BuildClose(1001, string(bytes.Repeat([]byte("é"), 100)))
	if len(f) > 2+125 {
		t.Fatalf("close frame too long: %d", len(f))
	}
}

// FuzzParseHeader checks ParseHeader against gobwas/ws's reader on any input:
// both must agree on every header both accept.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4})
	f.Add([]byte{0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4})
	f.Add([]byte{0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			return
		}
		if n > len(b) || n > MaxHeaderSize {
			t.Fatalf("header length %d over input %d", n, len(b))
		}
		g, gerr := ws.ReadHeader(bytes.NewReader(b))
		if gerr != nil {
			t.Fatalf("we accepted %+v, gobwas refused: %v", h, gerr)
		}
		if g.Fin != h.Fin || byte(g.OpCode) != h.Op || g.Masked != h.Masked || g.Length != h.Length || (h.Masked && g.Mask != h.Mask) || g.Rsv != h.Rsv {
			t.Fatalf("mismatch: ours %+v gobwas %+v", h, g)
		}
	})
}

func BenchmarkParseHeader(b *testing.B) {
	buf := []byte{0x81, 0xFE, 0x01, 0x00, 1, 2, 3, 4}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseHeader(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppendMatchesGobwas builds frames of each header length after some
// bytes already in the buffer: the prefix is kept and the frame is what
// gobwas writes for the same payload.
func TestAppendMatchesGobwas(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte{'x'}, n)
		var want bytes.Buffer
		if err := ws.WriteFrame(&want, ws.NewTextFrame(payload)); err != nil {
			t.Fatal(err)
		}
		got := Append([]byte("prefix"), OpText, payload)
		if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[6:], want.Bytes()) {
			t.Fatalf("len %d: frame differs from gobwas's", n)
		}
	}
}
