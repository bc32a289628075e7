package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

func members(t *testing.T, data string) map[string]string {
	got := map[string]string{}
	if err := Members([]byte(data), func(k, v []byte) bool {
		got[string(k)] = string(v)
		return true
	}); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return got
}

func TestMembers(t *testing.T) {
	got := members(t, ` { "method" : "a.b.c" , "id":12, "p":{"x":[1,"}",{"y":"\"]"}]}, "q": -1.5e3,"r":null,"s":"\\"} `)
	want := map[string]string{"method": `"a.b.c"`, "id": "12", "p": `{"x":[1,"}",{"y":"\"]"}]}`, "q": "-1.5e3", "r": "null", "s": `"\\"`}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %s, want %s", k, got[k], v)
		}
	}
	if len(members(t, `{}`)) != 0 {
		t.Fatal("empty object has members")
	}
	for _, s := range []string{`[]`, `"x"`, `1`, `null`} {
		if err := Members([]byte(s), func(k, v []byte) bool { return true }); err != ErrNotObject {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// FuzzMembers checks Members against encoding/json on every valid object.
func FuzzMembers(f *testing.F) {
	f.Add([]byte(`{"method":"index.index.index","id":"x","a":[1,{"b":"}"}]}`))
	f.Add([]byte(`{"k\"ey":"v\\","n":-0.5e+2,"t":true,"e":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(data, &want) != nil {
			if err := Members(data, func(k, v []byte) bool { return true }); err != ErrNotObject {
				t.Fatalf("not an object but Members said %v", err)
			}
			return
		}
		got := map[string][]byte{}
		Members(data, func(k, v []byte) bool {
			var key string
			if err := json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &key); err != nil {
				t.Fatalf("key %q: %v", k, err)
			}
			got[key] = v
			return true
		})
		if len(got) != len(want) {
			t.Fatalf("got %d members, want %d", len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(bytes.TrimSpace(got[k]), bytes.TrimSpace(v)) {
				t.Fatalf("member %q = %q, want %q", k, got[k], v)
			}
		}
	})
}

func BenchmarkMembers(b *testing.B) {
	msg := []byte(`{"method":"index.index.index","id":17,"hello":"world","n":[1,2,3]}`)
	b.ReportAllocs()
	for b.Loop() {
		Members(msg, func(k, v []byte) bool { return true })
	}
}
