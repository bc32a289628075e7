package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	``, ` `, `{}`, ` { } `, `[]`, `[ ]`, `{"a":1}`, `{"a":1,}`, `{,}`, `{"a" 1}`, `{"a":}`, `{a:1}`,
	`[1,2]`, `[1,]`, `[,1]`, `[1 2]`, `"x"`, `"x`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9"`, `"\u00g9"`, `"\u00e"`,
	`"\x"`, "\"a\tb\"", "\"\x7f\xff\xfe\"", `0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`,
	`-12.5e+30`, `1e5.5`, `true`, `tru`, `truex`, `false`, `null`, `nul`, `[true,false,null]`, `{}{}`,
	`{"method":"index.index.index","id":17,"hello":"world","n":[1,2,3]}`, "{\"a\":\n1\r\t}", `[{"a":[{}]}]`,
	`"` + "\x00" + `"`, "\xef\xbb\xbf{}", `{"a":1}x`, `1 2`, `[`, `{`, `{"a":[}`, `[}`, `{]`,
}

// TestValid: Valid agrees with encoding/json on every case, nesting limit
// included.
func TestValid(t *testing.T) {
	cases := append(validCases,
		strings.Repeat("[", maxDepth)+strings.Repeat("]", maxDepth),
		strings.Repeat("[", maxDepth+1)+strings.Repeat("]", maxDepth+1),
		strings.Repeat(`{"a":`, maxDepth)+"1"+strings.Repeat("}", maxDepth),
		strings.Repeat(`{"a":`, maxDepth+1)+"1"+strings.Repeat("}", maxDepth+1),
	)
	for _, c := range cases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.40q) = %v, encoding/json says %v", c, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	msg := []byte(`{"method":"index.index.index","id":17,"hello":"world","n":[1,2,3],"s":"caf\u00e9 \"x\""}`)
	b.Run("jsonscan", func(b *testing.B) {
		for b.Loop() {
			Valid(msg)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		for b.Loop() {
			json.Valid(msg)
		}
	})
}
