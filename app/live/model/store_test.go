package model_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"msgo/app/apptest"
	"strings"
	"testing"

	"gorm.io/gorm"

	"msgo/app/live/model"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// newStore migrates gdb and returns a Store over it.
func newStore(t testing.TB, gdb *gorm.DB) *model.Store {
	t.Helper()
	return model.NewStore(apptest.Migrated(t, gdb, model.Models()...))
}

func msg(room string, seq int64, content string) model.Message {
	return model.Message{Room: room, Seq: seq, UserID: "u1", UserType: "wechatUser", Nickname: "Nick", Content: content, Time: 1700000000000 + seq}
}

func seqs(msgs []model.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func TestHistoryAndMaxSeq(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		var rows []model.Message
		for i := int64(1); i <= 10; i++ {
			rows = append(rows, msg("a", i, "m"))
		}
		rand.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		rows = append(rows, msg("b", 1, "m"), msg("b", 2, "m"))
		if err := s.Insert(ctx, rows...); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.ID == 0 {
				t.Fatalf("row id not filled in: %+v", r)
			}
		}

		for room, want := range map[string]int64{"a": 10, "b": 2, "empty": 0} {
			if got, err := s.MaxSeq(ctx, room); err != nil || got != want {
				t.Errorf("MaxSeq(%s) = %d, %v; want %d", room, got, err, want)
			}
		}
		for _, tc := range []struct {
			room     string
			after    int64
			limit    int
			wantSeqs string
		}{
			{"a", 0, 100, "[1 2 3 4 5 6 7 8 9 10]"},
			{"a", 4, 3, "[5 6 7]"},
			{"a", 7, 3, "[8 9 10]"},
			{"a", 10, 3, "[]"},
			{"b", 0, 1, "[1]"},
			{"empty", 0, 50, "[]"},
		} {
			got, err := s.History(ctx, tc.room, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(seqs(got)) != tc.wantSeqs {
				t.Errorf("History(%s, %d, %d) = %v, want %s", tc.room, tc.after, tc.limit, seqs(got), tc.wantSeqs)
			}
			if got == nil {
				t.Errorf("History(%s, %d, %d) = nil, want an empty slice", tc.room, tc.after, tc.limit)
			}
		}
		if _, err := s.History(ctx, "a", 0, 0); err == nil {
			t.Error("History with limit 0: want an error")
		}
	})
}

func TestContentVerbatim(t *testing.T) {
	contents := []string{
		"<b>x</b><script>alert(1)</script>",
		`quotes ' " \ backslash`,
		"emoji 😀🎉👨‍👩‍👧",
		"'); DROP TABLE live_message; --",
		strings.Repeat("中", model.MaxContentLen),
		strings.Repeat("😀", model.MaxContentLen),
		"line\nbreak\ttab\x00nul",
	}
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		var rows []model.Message
		for i, c := range contents {
			m := msg("room😀", int64(i+1), c)
			m.Nickname = "昵称😀'\""
			rows = append(rows, m)
		}
		if err := s.Insert(t.Context(), rows...); err != nil {
			t.Fatal(err)
		}
		got, err := s.History(t.Context(), "room😀", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(contents) {
			t.Fatalf("got %d messages, want %d", len(got), len(contents))
		}
		for i, m := range got {
			if m.Content != contents[i] || m.Nickname != "昵称😀'\"" {
				t.Errorf("message %d: content %q nickname %q", i, m.Content, m.Nickname)
			}
		}
	})
}

func TestInsertDuplicateSeq(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		if err := s.Insert(t.Context(), msg("a", 1, "x")); err != nil {
			t.Fatal(err)
		}
		err := s.Insert(t.Context(), msg("a", 2, "y"), msg("a", 1, "z"))
		if !errors.Is(err, gorm.ErrDuplicatedKey) || errors.Is(err, db.ErrUnavailable) {
			t.Fatalf("duplicate seq: %v, want gorm.ErrDuplicatedKey", err)
		}
		if n, _ := s.MaxSeq(t.Context(), "a"); n != 1 {
			t.Errorf("a failed batch stored rows: max seq %d", n)
		}
	})
}

func TestNicknameClipped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		m := msg("a", 1, "x")
		m.Nickname = strings.Repeat("名", model.MaxNicknameLen+10)
		if err := s.Insert(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		got, err := s.History(t.Context(), "a", 0, 1)
		if err != nil || len(got) != 1 || got[0].Nickname != strings.Repeat("名", model.MaxNicknameLen) {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestInsertManyRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		rows := make([]model.Message, 1200) // past one statement's 1000 rows
		for i := range rows {
			rows[i] = msg("big", int64(i+1), "x")
		}
		if err := s.Insert(t.Context(), rows...); err != nil {
			t.Fatal(err)
		}
		if n, err := s.MaxSeq(t.Context(), "big"); err != nil || n != 1200 {
			t.Fatalf("MaxSeq = %d, %v", n, err)
		}
	})
}

func TestClosedDatabaseIsUnavailable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		db.Close(gdb)
		if err := s.Insert(t.Context(), msg("a", 1, "x")); !errors.Is(err, db.ErrUnavailable) {
			t.Errorf("Insert: %v", err)
		}
		if _, err := s.History(t.Context(), "a", 0, 10); !errors.Is(err, db.ErrUnavailable) {
			t.Errorf("History: %v", err)
		}
		if _, err := s.MaxSeq(t.Context(), "a"); !errors.Is(err, db.ErrUnavailable) {
			t.Errorf("MaxSeq: %v", err)
		}
	})
}

func TestMessageWireJSON(t *testing.T) {
	m := msg("room", 7, "hi <b>")
	m.ID = 99
	want := `{"seq":7,"id":"u1","nickname":"Nick","content":"hi \u003cb\u003e","time":1700000000007}`
	if got := jsonOf(t, m); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
