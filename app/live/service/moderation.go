package service

import (
	"fmt"
	"strings"
	"unicode"
)

// Moderation modes.
const (
	// ModeOff puts messages on the wall at once, unless a word holds or
	// drops them.
	ModeOff = "off"
	// ModeHoldAll holds every message until a moderator approves it.
	ModeHoldAll = "hold_all"
)

// Verdict is what moderation decides for a message.
type Verdict int

// Verdicts.
const (
	Pass Verdict = iota // on the wall at once
	Hold                // held until a moderator decides
	Drop                // thrown away; the sender is told it is held
)

// Moderation is the room's filter: a mode and two word lists. The zero value
// passes everything.
type Moderation struct {
	mode string
	hold []string
	drop []string
}

// NewModeration returns the filter for mode ("" or "off", or "hold_all"),
// holding messages that contain a hold word and dropping those that contain
// a drop word. Words match case-insensitively, ignoring spaces, punctuation
// and symbols on both sides, so "b.a d" matches the word "bad".
func NewModeration(mode string, hold, drop []string) (*Moderation, error) {
	switch mode {
	case "":
		mode = ModeOff
	case ModeOff, ModeHoldAll:
	default:
		return nil, fmt.Errorf("live: moderation mode %q: want %s or %s", mode, ModeOff, ModeHoldAll)
	}
	return &Moderation{mode: mode, hold: normalizeAll(hold), drop: normalizeAll(drop)}, nil
}

// Mode returns the mode, "off" or "hold_all".
func (m *Moderation) Mode() string {
	if m == nil || m.mode == "" {
		return ModeOff
	}
	return m.mode
}

// Check decides for content: a drop word drops it, else a hold word holds
// it (word is that hold word as configured, normalized), else the mode
// decides.
func (m *Moderation) Check(content string) (v Verdict, word string) {
	if m == nil {
		return Pass, ""
	}
	if len(m.hold) > 0 || len(m.drop) > 0 {
		text := normalize(content)
		for _, w := range m.drop {
			if strings.Contains(text, w) {
				return Drop, w
			}
		}
		for _, w := range m.hold {
			if strings.Contains(text, w) {
				return Hold, w
			}
		}
	}
	if m.mode == ModeHoldAll {
		return Hold, ""
	}
	return Pass, ""
}

// normalize lower-cases s and leaves out spaces, punctuation and symbols,
// which people put between the characters of a word to slip it past a filter.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

func normalizeAll(words []string) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		if n := normalize(w); n != "" {
			out = append(out, n)
		}
	}
	return out
}
