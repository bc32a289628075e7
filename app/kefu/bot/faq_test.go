package bot_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"msgo/app/kefu/bot"
)

const testYAML = `
chunk: 3
delay: 1ms
fallback: "no idea"
faq:
  - keywords: [refund*, "money back", 退款]
    answer: "refunds take 3 days"
  - keywords: [hello, 你好]
    answer: "hi there"
  - keywords: [order, ship*]
    answer: "orders ship in 2 days"
  - keywords: [order status]
    answer: "see My Orders"
`

func TestMatch(t *testing.T) {
	b, err := bot.ParseFAQ([]byte(testYAML), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		want string
		ok   bool
	}{
		{"How do I get a REFUND?", "refunds take 3 days", true},
		{"refunded yet?", "refunds take 3 days", true}, // prefix keyword
		{"I want my money back", "refunds take 3 days", true},
		{"我要退款", "refunds take 3 days", true}, // CJK: anywhere
		{"你好呀", "hi there", true},
		{"Hello!", "hi there", true},
		{"othello", "no idea", false},                              // whole words only
		{"hellos", "no idea", false},                               // not a prefix keyword
		{"when does my order ship", "orders ship in 2 days", true}, // two keywords beat one
		{"order status please", "see My Orders", true},             // one keyword each: the longer wins
		{"", "no idea", false},
		{"what is the weather", "no idea", false},
	} {
		got, ok := b.Match(tc.q)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Match(%q) = %q, %v; want %q, %v", tc.q, got, ok, tc.want, tc.ok)
		}
	}
}

func TestChunks(t *testing.T) {
	for _, tc := range []struct {
		s    string
		size int
		want []string
	}{
		{"Hello! I am the bot.", 4, []string{"Hello!", " I am", " the", " bot."}},
		{"您好！我是智能客服。", 4, []string{"您好！我", "是智能客", "服。"}},
		{"abc", 10, []string{"abc"}},
		{"", 4, nil},
		{"Supercalifragilistic word", 3, []string{"Supercalifragilistic", " word"}},
		{"好👨‍👩‍👧好好好", 2, []string{"好👨‍👩‍👧", "好好", "好"}},
		{"e\u0301e\u0301e\u0301", 1, []string{"e\u0301e\u0301e\u0301"}}, // letters: no break inside a word
		{"好\u0301好", 1, []string{"好\u0301", "好"}},                       // a mark stays with its character
	} {
		got := bot.Chunks(tc.s, tc.size)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("Chunks(%q, %d) = %q, want %q", tc.s, tc.size, got, tc.want)
		}
		if strings.Join(got, "") != tc.s {
			t.Errorf("Chunks(%q) do not concatenate to it", tc.s)
		}
	}
}

func TestAnswerStreamsAndStops(t *testing.T) {
	b, err := bot.ParseFAQ([]byte(`{"chunk": 2, "delay": "20ms", "faq": [{"keywords": ["long"], "answer": "`+strings.Repeat("长", 400)+`"}]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = b.Answer(t.Context(), bot.Question{Text: "hello"}, func(c string) error { got = append(got, c); return nil })
	if err != nil || strings.Join(got, "") != bot.DefaultFallback {
		t.Fatalf("fallback: %q, %v", strings.Join(got, ""), err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	err = b.Answer(ctx, bot.Question{Text: "long"}, func(string) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("cancelled after chunk 3: %v after %d chunks, want context.Canceled after 3", err, n)
	}

	stop := errors.New("client gone")
	n = 0
	err = b.Answer(t.Context(), bot.Question{Text: "long"}, func(string) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("emit failing: %v after %d chunks", err, n)
	}
}

func TestLoadFAQ(t *testing.T) {
	builtin, err := bot.LoadFAQ("")
	if err != nil {
		t.Fatalf("built-in FAQ: %v", err)
	}
	for _, q := range []string{"How do I get a refund?", "我想退款", "hello", "转人工", "where is my parcel"} {
		if _, ok := builtin.Match(q); !ok {
			t.Errorf("the built-in FAQ has no answer to %q", q)
		}
	}

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	yml := write("faq.yaml", testYAML)
	js := write("faq.json", "{\n\t\"faq\": [{\"keywords\": [\"refund\"], \"answer\": \"from json\"}]\n}")
	for path, want := range map[string]string{yml: "refunds take 3 days", js: "from json"} {
		b, err := bot.LoadFAQ(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Match("refund"); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}

	for name, content := range map[string]string{
		"typo.yaml":      "faqs: []",
		"no-answer.yaml": "faq: [{keywords: [a]}]",
		"no-kw.yaml":     "faq: [{answer: a}]",
		"empty-kw.yaml":  "faq: [{keywords: [' '], answer: a}]",
		"delay.yaml":     "delay: soon",
		"chunk.json":     `{"chunk": -1}`,
		"unknown.json":   `{"fallback": "x", "extra": 1}`,
	} {
		if _, err := bot.LoadFAQ(write(name, content)); err == nil {
			t.Errorf("%s loaded without an error", name)
		}
	}
	if _, err := bot.LoadFAQ(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file loaded without an error")
	}
}

// The delay paces chunks; a zero delay streams them at once.
func TestZeroDelay(t *testing.T) {
	b, err := bot.NewFAQ(bot.File{Delay: "0s", Chunk: 1, Entries: []bot.Entry{{Keywords: []string{"x"}, Answer: strings.Repeat("字", 1000)}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	n := 0
	if err := b.Answer(ctx, bot.Question{Text: "x"}, func(string) error { n++; return nil }); err != nil || n != 1000 {
		t.Errorf("%d chunks, %v", n, err)
	}
}
