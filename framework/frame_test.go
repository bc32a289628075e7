package framework_test

import (
	"encoding/json"
	"testing"

	"msgo/framework"
)

// TestNewFrameParams: every kind of param encodes to valid JSON in the
// protocol's field order, HTML stays verbatim, and an empty raw param is {}.
func TestNewFrameParams(t *testing.T) {
	for _, tc := range []struct {
		param any
		want  string
	}{
		{nil, `{"status":200,"info":"i","param":{},"event":"e"}`},
		{json.RawMessage(nil), `{"status":200,"info":"i","param":{},"event":"e"}`},
		{json.RawMessage(`{"a":1}`), `{"status":200,"info":"i","param":{"a":1},"event":"e"}`},
		{map[string]string{"h": "<b>&"}, `{"status":200,"info":"i","param":{"h":"<b>&"},"event":"e"}`},
	} {
		f, err := framework.NewFrame(framework.Message{Status: 200, Info: "i", Param: tc.param, Event: "e"})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(f.Payload()); got != tc.want || !json.Valid(f.Payload()) {
			t.Fatalf("param %#v: got %s, want %s", tc.param, got, tc.want)
		}
	}
	f, _ := framework.NewFrame(framework.Message{Status: 400, Info: "bad \"x\"\n\x01\xff", Event: "e", ID: json.RawMessage(`"r1"`)})
	var m map[string]any
	if err := json.Unmarshal(f.Payload(), &m); err != nil || m["info"] != "bad \"x\"\n\x01\ufffd" || m["id"] != "r1" {
		t.Fatalf("info escaping: %s (%v)", f.Payload(), err)
	}
}
