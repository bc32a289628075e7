package bot

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Defaults of a FAQ file that leaves them out.
const (
	DefaultChunk = 4                     // characters per chunk
	DefaultDelay = 60 * time.Millisecond // between chunks
)

// DefaultFallback answers a question no entry matches, when the file gives
// no fallback of its own.
const DefaultFallback = "Sorry, I don't know the answer to that yet. Please leave a message for an agent: a person will answer you."

//go:embed faq.yaml
var builtinFAQ []byte

// File is a FAQ file, YAML or JSON (see faq.yaml, the built-in one):
//
//	chunk: 4        # characters per chunk
//	delay: 60ms     # between chunks
//	fallback: "Sorry, ..."
//	faq:
//	  - keywords: [refund*, "money back", 退款]
//	    answer: "You can return an item within 7 days ..."
type File struct {
	Chunk    int     `yaml:"chunk" json:"chunk"`
	Delay    string  `yaml:"delay" json:"delay"` // a Go duration: "60ms"; empty: DefaultDelay
	Fallback string  `yaml:"fallback" json:"fallback"`
	Entries  []Entry `yaml:"faq" json:"faq"`
}

// Entry is one question of the FAQ: the keywords that recognise it and its
// answer.
type Entry struct {
	Keywords []string `yaml:"keywords" json:"keywords"`
	Answer   string   `yaml:"answer" json:"answer"`
}

// FAQ is the built-in Bot: it answers from a FAQ file, picking the entry
// whose keywords best match the question, and streams the answer a few
// characters at a time. It is immutable and safe for concurrent use.
type FAQ struct {
	entries  []entry
	fallback string
	chunk    int
	delay    time.Duration
}

var _ Bot = (*FAQ)(nil)

type entry struct {
	keywords []keyword
	answer   string
}

// keyword is a lower-cased keyword; prefix when it was written with a
// trailing *.
type keyword struct {
	text   string
	prefix bool
}

// LoadFAQ reads the FAQ file at path (JSON when it ends in .json or starts
// with '{', YAML otherwise); an empty path gives the built-in FAQ.
func LoadFAQ(path string) (*FAQ, error) {
	if path == "" {
		return ParseFAQ(builtinFAQ, false)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kefu bot: read FAQ: %w", err)
	}
	f, err := ParseFAQ(data, strings.EqualFold(filepath.Ext(path), ".json"))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return f, nil
}

// ParseFAQ parses a FAQ file's content, as JSON when isJSON is set or the
// content starts with '{', as YAML otherwise. Unknown fields are errors, so
// a misspelt key does not pass unnoticed.
func ParseFAQ(data []byte, isJSON bool) (*FAQ, error) {
	var f File
	var err error
	if isJSON || bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.DisallowUnknownFields()
		err = d.Decode(&f)
	} else {
		d := yaml.NewDecoder(bytes.NewReader(data))
		d.KnownFields(true)
		err = d.Decode(&f)
	}
	if err != nil {
		return nil, fmt.Errorf("kefu bot: parse FAQ: %w", err)
	}
	return NewFAQ(f)
}

// NewFAQ checks f and returns its bot.
func NewFAQ(f File) (*FAQ, error) {
	b := &FAQ{fallback: f.Fallback, chunk: f.Chunk, delay: DefaultDelay}
	if b.fallback == "" {
		b.fallback = DefaultFallback
	}
	switch {
	case f.Chunk < 0:
		return nil, fmt.Errorf("kefu bot: FAQ chunk %d, want 1 or more characters", f.Chunk)
	case f.Chunk == 0:
		b.chunk = DefaultChunk
	}
	if f.Delay != "" {
		d, err := time.ParseDuration(f.Delay)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("kefu bot: FAQ delay %q, want a duration such as 60ms", f.Delay)
		}
		b.delay = d
	}
	for i, e := range f.Entries {
		if strings.TrimSpace(e.Answer) == "" {
			return nil, fmt.Errorf("kefu bot: FAQ entry %d has no answer", i+1)
		}
		if len(e.Keywords) == 0 {
			return nil, fmt.Errorf("kefu bot: FAQ entry %d has no keywords", i+1)
		}
		en := entry{answer: e.Answer}
		for _, k := range e.Keywords {
			text, prefix := strings.CutSuffix(strings.ToLower(strings.TrimSpace(k)), "*")
			if text == "" {
				return nil, fmt.Errorf("kefu bot: FAQ entry %d has an empty keyword", i+1)
			}
			en.keywords = append(en.keywords, keyword{text: text, prefix: prefix})
		}
		b.entries = append(b.entries, en)
	}
	return b, nil
}

// Match returns the answer to question: the entry with the most matching
// keywords, ties going to the longer keywords, then to the entry written
// first; ok is false, with the fallback, when no keyword matches.
func (b *FAQ) Match(question string) (answer string, ok bool) {
	q := strings.ToLower(question)
	best, bestCount, bestLen := -1, 0, 0
	for i, e := range b.entries {
		count, length := 0, 0
		for _, k := range e.keywords {
			if k.in(q) {
				count++
				length += utf8.RuneCountInString(k.text)
			}
		}
		if count > bestCount || count > 0 && count == bestCount && length > bestLen {
			best, bestCount, bestLen = i, count, length
		}
	}
	if best < 0 {
		return b.fallback, false
	}
	return b.entries[best].answer, true
}

// Answer streams the answer to q in chunks of about the file's chunk
// characters, the file's delay apart, and stops as soon as ctx is done.
func (b *FAQ) Answer(ctx context.Context, q Question, emit func(chunk string) error) error {
	answer, _ := b.Match(q.Text)
	var pause *time.Timer
	for i, c := range Chunks(answer, b.chunk) {
		if i > 0 && b.delay > 0 {
			if pause == nil {
				pause = time.NewTimer(b.delay)
				defer pause.Stop()
			} else {
				pause.Reset(b.delay)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-pause.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}

// in reports whether k occurs in the lower-cased question q. A keyword
// whose first (last) character is a letter or digit of a script written
// with spaces must not continue a word there: "hello" is not in "othello";
// a prefix keyword may continue at its end. Chinese, Japanese and Korean
// keywords match anywhere.
func (k keyword) in(q string) bool {
	first, _ := utf8.DecodeRuneInString(k.text)
	last, _ := utf8.DecodeLastRuneInString(k.text)
	for from := 0; from < len(q); {
		i := strings.Index(q[from:], k.text)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(k.text)
		before, _ := utf8.DecodeLastRuneInString(q[:start])
		after, _ := utf8.DecodeRuneInString(q[end:])
		leftOK := start == 0 || !wordRune(first) || !wordRune(before)
		rightOK := k.prefix || end == len(q) || !wordRune(last) || !wordRune(after)
		if leftOK && rightOK {
			return true
		}
		_, size := utf8.DecodeRuneInString(q[start:])
		from = start + size
	}
	return false
}

// wordRune reports whether r is a letter or digit of a script whose words
// are separated by spaces.
func wordRune(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsDigit(r)) && !cjk(r)
}

func cjk(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// Chunks splits s into pieces of about size characters that concatenate to
// s. A piece ends once it holds size characters, at the next place where
// text may break: after a space, punctuation, a symbol (an emoji) or a
// Chinese, Japanese or Korean character, or before a space. So words of space-separated
// scripts are never cut, and a character is never parted from the
// combining marks, variation selectors or zero-width joiners that follow
// it (an emoji sequence stays whole).
func Chunks(s string, size int) []string {
	if size < 1 {
		size = 1
	}
	var out []string
	start, n := 0, 0
	var base rune // the character that r, a mark or joiner, belongs to
	for i, r := range s {
		n++
		if !joins(r) {
			base = r
		}
		end := i + utf8.RuneLen(r)
		if n < size || end == len(s) {
			continue
		}
		next, _ := utf8.DecodeRuneInString(s[end:])
		if joins(next) || r == '\u200d' {
			continue
		}
		if unicode.IsSpace(base) || unicode.IsPunct(base) || unicode.Is(unicode.So, base) || cjk(base) || unicode.IsSpace(next) {
			out = append(out, s[start:end])
			start, n = end, 0
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// joins reports whether r attaches to the character before it.
func joins(r rune) bool {
	return r == '\u200d' || unicode.In(r, unicode.Mn, unicode.Me, unicode.Variation_Selector) ||
		r >= 0x1F3FB && r <= 0x1F3FF // emoji skin tone modifiers
}
