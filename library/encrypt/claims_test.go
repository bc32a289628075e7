package encrypt

import (
	"encoding/json"
	"testing"
)

func TestClaimsUnmarshalJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    Claims
		wantErr bool
	}{
		{in: `{}`},
		{in: ` { "id" : "a" , "type":"wall" ,"code":"c","nickname":"n","ctime": 5 } `,
			want: Claims{ID: "a", Type: TypeWall, Code: "c", Nickname: "n", Ctime: 5}},
		{in: `{"id":12}`, want: Claims{ID: "12"}},
		{in: `{"id":-0}`, want: Claims{ID: "-0"}},
		{in: `{"id":"x","id":"y"}`, want: Claims{ID: "y"}},
		{in: `{"id":"x","id":null}`, want: Claims{ID: "x"}},
		{in: `{"\u0069d":"esc"}`, want: Claims{ID: "esc"}},
		{in: `{"ID":"case"}`, want: Claims{}},
		{in: `{"nickname":"a\"b\\c\u00e9\n"}`, want: Claims{Nickname: "a\"b\\cé\n"}},
		{in: "{\"nickname\":\"bad\xffutf8\"}", want: Claims{Nickname: "bad\uFFFDutf8"}},
		{in: `{"x":{"id":"no","y":[{"}":"]"}]},"z":[],"w":true,"v":null,"u":-1.5e3,"id":"yes"}`, want: Claims{ID: "yes"}},
		{in: `{"type":"wal\u006c"}`, want: Claims{Type: TypeWall}},
		{in: `{"ctime":-12}`, want: Claims{Ctime: -12}},
		{in: ``, wantErr: true},
		{in: `null`, wantErr: true},
		{in: `"id"`, wantErr: true},
		{in: `{"id":"a"`, wantErr: true},
		{in: `{"id":"a"} x`, wantErr: true},
		{in: `{"id":1e3}`, wantErr: true},
		{in: `{"id":[]}`, wantErr: true},
		{in: `{"code":1}`, wantErr: true},
		{in: `{"nickname":false}`, wantErr: true},
		{in: `{"ctime":99999999999999999999}`, wantErr: true},
		{in: `{"ctime":1.0}`, wantErr: true},
	}
	for _, tt := range tests {
		var got Claims
		err := got.UnmarshalJSON([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestClaimsViaEncodingJSON checks that json.Unmarshal reaches the custom
// method, as it does for the fixture and for callers outside this package.
func TestClaimsViaEncodingJSON(t *testing.T) {
	var cl Claims
	if err := json.Unmarshal([]byte(`{"id":7,"type":"kefu"}`), &cl); err != nil {
		t.Fatal(err)
	}
	if cl.ID != "7" || cl.Type != TypeKefu {
		t.Fatalf("got %+v", cl)
	}
}

// FuzzClaimsUnmarshalJSON checks that the hand-written walk never panics and
// that whatever it accepts survives a round trip through json.Marshal.
func FuzzClaimsUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","type":"wall","code":"c","nickname":"n","ctime":5}`,
		`{"id":12,"x":{"y":["}",{"z":"\""}]},"ctime":-1}`,
		`{"\u0069d":"e\u00e9"}`,
		`[]`, `{}`, `{"a":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cl Claims
		if err := cl.UnmarshalJSON(data); err != nil {
			return
		}
		out, err := json.Marshal(cl)
		if err != nil {
			t.Fatal(err)
		}
		var back Claims
		if err := back.UnmarshalJSON(out); err != nil {
			t.Fatalf("re-reading %s: %v", out, err)
		}
		if back != cl {
			t.Fatalf("round trip: %+v became %+v", cl, back)
		}
	})
}
