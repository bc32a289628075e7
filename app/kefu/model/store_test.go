package model_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"msgo/app/apptest"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

func newStore(t testing.TB, gdb *gorm.DB) *model.Store {
	t.Helper()
	return model.NewStore(apptest.Migrated(t, gdb, model.Models()...))
}

// send inserts a message and returns it as stored.
func send(t testing.TB, s *model.Store, openid string, typ int, text string) model.Message {
	t.Helper()
	m := model.Message{OpenID: openid, Type: typ, Msg: text}
	if err := s.Insert(t.Context(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func ids(msgs []model.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func TestInsertAndHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		var u1 []int64
		for i := range 6 {
			typ := model.TypeUserToAgent
			if i%2 == 1 {
				typ = model.TypeAgentToUser
			}
			m := send(t, s, "u1", typ, fmt.Sprint("m", i))
			if m.ID == 0 || m.Time == 0 || m.IsRead != 0 {
				t.Fatalf("stored message %+v: want id and time filled in, unread", m)
			}
			u1 = append(u1, m.ID)
			send(t, s, "u2", model.TypeUserToAgent, "other")
		}
		newestFirst := func(ids ...int64) string { return fmt.Sprint(ids) }
		for _, tc := range []struct {
			openid string
			before int64
			limit  int
			want   string
		}{
			{"u1", 0, 100, newestFirst(u1[5], u1[4], u1[3], u1[2], u1[1], u1[0])},
			{"u1", 0, 2, newestFirst(u1[5], u1[4])},
			{"u1", u1[4], 2, newestFirst(u1[3], u1[2])},
			{"u1", u1[1], 20, newestFirst(u1[0])},
			{"u1", u1[0], 20, "[]"},
			{"nobody", 0, 20, "[]"},
		} {
			got, err := s.History(t.Context(), tc.openid, tc.before, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(got)) != tc.want || got == nil {
				t.Errorf("History(%s, %d, %d) = %v, want %s", tc.openid, tc.before, tc.limit, ids(got), tc.want)
			}
		}
		got, _ := s.History(t.Context(), "u1", 0, 1)
		if got[0].Msg != "m5" || got[0].Type != model.TypeAgentToUser || got[0].OpenID != "u1" {
			t.Errorf("newest message %+v", got[0])
		}

		if _, err := s.History(t.Context(), "u1", 0, 0); err == nil {
			t.Error("History with limit 0: want an error")
		}
		if err := s.Insert(t.Context(), &model.Message{OpenID: "u1", Type: 3, Msg: "x"}); err == nil {
			t.Error("Insert with type 3: want an error")
		}
		if err := s.Insert(t.Context(), &model.Message{Type: 1, Msg: "x"}); err == nil {
			t.Error("Insert without openid: want an error")
		}
	})
}

func TestMsgVerbatim(t *testing.T) {
	texts := []string{
		"<b>x</b><img src=x onerror=alert(1)>",
		`quotes ' " \ backslash %_`,
		"emoji 😀🎉👨‍👩‍👧",
		"'); DROP TABLE chat; --",
		strings.Repeat("客", model.MaxMsgLen),
		strings.Repeat("😀", model.MaxMsgLen),
	}
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		openid := `o'Pen"id😀`
		for _, text := range texts {
			send(t, s, openid, model.TypeUserToAgent, text)
		}
		got, err := s.History(t.Context(), openid, 0, 100)
		if err != nil || len(got) != len(texts) {
			t.Fatalf("got %d messages, %v", len(got), err)
		}
		for i, m := range got {
			if want := texts[len(texts)-1-i]; m.Msg != want || m.OpenID != openid {
				t.Errorf("message %d: %q of %q, want %q", i, m.Msg, m.OpenID, want)
			}
		}
		// openids compare exactly, case included, on both drivers
		if got, _ := s.History(t.Context(), strings.ToUpper(openid), 0, 100); len(got) != 0 {
			t.Errorf("openid matched case-insensitively: %d messages", len(got))
		}
		sessions, err := s.Sessions(t.Context(), 1)
		if err != nil || len(sessions) != 1 || sessions[0].LastMsg != texts[len(texts)-1] {
			t.Fatalf("sessions %v, %v", sessions, err)
		}
	})
}

func TestMarkReadAndUnread(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		var fromUser []int64
		for range 3 {
			fromUser = append(fromUser, send(t, s, "u1", model.TypeUserToAgent, "hi").ID)
			send(t, s, "u1", model.TypeAgentToUser, "hello")
		}
		send(t, s, "u2", model.TypeUserToAgent, "other user")

		unread := func(openid string, typ int, want int64) {
			t.Helper()
			if n, err := s.Unread(ctx, openid, typ); err != nil || n != want {
				t.Errorf("Unread(%s, %d) = %d, %v; want %d", openid, typ, n, err, want)
			}
		}
		markRead := func(openid string, typ int, upTo, want int64) {
			t.Helper()
			if n, err := s.MarkRead(ctx, openid, typ, upTo); err != nil || n != want {
				t.Errorf("MarkRead(%s, %d, %d) = %d, %v; want %d", openid, typ, upTo, n, err, want)
			}
		}
		unread("u1", model.TypeUserToAgent, 3)
		unread("u1", model.TypeAgentToUser, 3)
		markRead("u1", model.TypeUserToAgent, fromUser[1], 2) // an agent reads up to the 2nd
		markRead("u1", model.TypeUserToAgent, fromUser[1], 0) // already read
		unread("u1", model.TypeUserToAgent, 1)
		unread("u1", model.TypeAgentToUser, 3) // the user's side is untouched
		markRead("u1", model.TypeAgentToUser, 1<<62, 3)
		unread("u1", model.TypeAgentToUser, 0)
		unread("u2", model.TypeUserToAgent, 1) // another openid is untouched
		unread("nobody", model.TypeUserToAgent, 0)

		got, _ := s.History(ctx, "u1", 0, 100)
		for _, m := range got {
			if wantRead := m.Type == model.TypeAgentToUser || m.ID <= fromUser[1]; (m.IsRead == 1) != wantRead {
				t.Errorf("message %d (type %d) isread=%d", m.ID, m.Type, m.IsRead)
			}
		}
		if _, err := s.MarkRead(ctx, "u1", 0, 1); err == nil {
			t.Error("MarkRead with type 0: want an error")
		}
	})
}

func TestUnreadSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		if got, err := s.UnreadSessions(ctx); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("empty: %v, %v; want an empty slice", got, err)
		}
		send(t, s, "u2", model.TypeUserToAgent, "x")
		send(t, s, "u1", model.TypeUserToAgent, "x")
		send(t, s, "u1", model.TypeUserToAgent, "x")
		read := send(t, s, "u4", model.TypeUserToAgent, "x")
		send(t, s, "u3", model.TypeAgentToUser, "x") // agent's unread messages do not count
		if _, err := s.MarkRead(ctx, "u4", model.TypeUserToAgent, read.ID); err != nil {
			t.Fatal(err)
		}
		got, err := s.UnreadSessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := `[{"openid":"u1","unread":2},{"openid":"u2","unread":1}]`; jsonOf(t, got) != want {
			t.Errorf("got %s, want %s", jsonOf(t, got), want)
		}
	})
}

func TestSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		if got, err := s.Sessions(ctx, 10); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("empty: %v, %v; want an empty slice", got, err)
		}
		send(t, s, "u1", model.TypeUserToAgent, "u1 first")
		send(t, s, "u2", model.TypeUserToAgent, "u2 first")
		send(t, s, "u1", model.TypeUserToAgent, "u1 second")
		send(t, s, "u3", model.TypeUserToAgent, "u3 first")
		last := send(t, s, "u2", model.TypeAgentToUser, "agent to u2")

		got, err := s.Sessions(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		const none = `"nickname":"","code":"","agent_id":"","agent_name":""`
		want := fmt.Sprintf(`[{"openid":"u2","last_msg":"agent to u2","last_time":%d,"unread":1,`+none+`},`, last.Time) +
			`{"openid":"u3","last_msg":"u3 first","last_time":%d,"unread":1,` + none + `},` +
			`{"openid":"u1","last_msg":"u1 second","last_time":%d,"unread":2,` + none + `}]`
		want = fmt.Sprintf(want, got[1].LastTime, got[2].LastTime)
		if jsonOf(t, got) != want {
			t.Errorf("got  %s\nwant %s", jsonOf(t, got), want)
		}
		if got, _ := s.Sessions(ctx, 2); len(got) != 2 || got[1].OpenID != "u3" {
			t.Errorf("limit 2: %+v", got)
		}
		if _, err := s.Sessions(ctx, 0); err == nil {
			t.Error("Sessions with limit 0: want an error")
		}
	})
}

// Concurrent messages of one openid leave its session at the latest one,
// whichever transaction commits last.
func TestSessionsUnderConcurrentInserts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 10 {
					m := model.Message{OpenID: fmt.Sprint("u", i%3), Type: model.TypeUserToAgent, Msg: fmt.Sprint(w, "-", i)}
					if err := s.Insert(t.Context(), &m); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		assertSessionsCurrent(t, gdb, s)
	})
}

// assertSessionsCurrent checks every session against the latest chat row
// of its openid.
func assertSessionsCurrent(t *testing.T, gdb *gorm.DB, s *model.Store) {
	t.Helper()
	sessions, err := s.Sessions(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var openids int64
	gdb.Model(&model.Message{}).Distinct("openid").Count(&openids)
	if int64(len(sessions)) != openids {
		t.Errorf("%d sessions for %d openids", len(sessions), openids)
	}
	for _, ses := range sessions {
		latest, err := s.History(t.Context(), ses.OpenID, 0, 1)
		if err != nil || len(latest) != 1 {
			t.Fatal(err)
		}
		if ses.LastID != latest[0].ID || ses.LastMsg != latest[0].Msg || ses.LastTime != latest[0].Time {
			t.Errorf("session %+v, latest message %+v", ses, latest[0])
		}
	}
}

func TestSyncSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		send(t, s, "u1", model.TypeUserToAgent, "through msgo")
		// rows written by another program, straight into chat
		legacy := []model.Message{
			{OpenID: "u1", Type: 1, Msg: "legacy newer", Time: 5},
			{OpenID: "u2", Type: 2, Msg: "legacy only", Time: 6},
		}
		if err := gdb.Create(&legacy).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.SyncSessions(t.Context()); err != nil {
			t.Fatal(err)
		}
		assertSessionsCurrent(t, gdb, s)
		if n, err := s.SyncSessions(t.Context()); err != nil || n != 0 {
			t.Errorf("second sync changed %d rows, %v; want 0", n, err)
		}
	})
}

func TestClosedDatabaseIsUnavailable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		db.Close(gdb)
		ctx := t.Context()
		errs := map[string]error{}
		errs["Insert"] = s.Insert(ctx, &model.Message{OpenID: "u", Type: 2, Msg: "x"})
		errs["InsertAll"] = s.InsertAll(ctx, []*model.Message{{OpenID: "u", Type: 2, Msg: "x"}})
		_, errs["History"] = s.History(ctx, "u", 0, 10)
		_, errs["MarkRead"] = s.MarkRead(ctx, "u", 2, 10)
		_, errs["Unread"] = s.Unread(ctx, "u", 2)
		_, errs["UnreadSessions"] = s.UnreadSessions(ctx)
		_, errs["Sessions"] = s.Sessions(ctx, 10)
		_, errs["SyncSessions"] = s.SyncSessions(ctx)
		_, errs["AgentSessions"] = s.AgentSessions(ctx, "a", model.OwnerMine, 10)
		_, errs["Session"] = s.Session(ctx, "u")
		_, errs["Assign"] = s.Assign(ctx, "u", "", "a", "A")
		errs["MarkReadBy"] = s.MarkReadBy(ctx, "a", "u", 1)
		_, errs["AgentLoads"] = s.AgentLoads(ctx, []string{"a"})
		for name, err := range errs {
			if !errors.Is(err, db.ErrUnavailable) {
				t.Errorf("%s: %v, want db.ErrUnavailable", name, err)
			}
		}
	})
}

func TestWireJSON(t *testing.T) {
	m := model.Message{ID: 3, OpenID: "o1", Msg: "hi", Type: 2, IsRead: 1, Time: 1700000000000}
	if got, want := jsonOf(t, m), `{"id":3,"openid":"o1","msg":"hi","type":2,"isread":1,"time":1700000000000}`; got != want {
		t.Errorf("message: got %s, want %s", got, want)
	}
	ses := model.Session{OpenID: "o1", LastID: 3, LastMsg: "hi", LastTime: 5, Unread: 2, Nickname: "小明", Code: "r1", AgentID: "a1", AgentName: "客服"}
	if got, want := jsonOf(t, ses), `{"openid":"o1","last_msg":"hi","last_time":5,"unread":2,"nickname":"小明","code":"r1","agent_id":"a1","agent_name":"客服"}`; got != want {
		t.Errorf("session: got %s, want %s", got, want)
	}
	mine := int64(1)
	ses.MyUnread = &mine
	if got := jsonOf(t, ses); !strings.HasSuffix(got, `,"my_unread":1}`) {
		t.Errorf("session with my_unread: %s", got)
	}
	m.From = model.Sender{Nickname: "n", Code: "c"}
	if got := jsonOf(t, m); strings.Contains(got, `"n"`) {
		t.Errorf("the sender is not on the wire: %s", got)
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

func TestInsertAll(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		batch := []*model.Message{
			{OpenID: "u1", Type: model.TypeUserToAgent, Msg: "first"},
			{OpenID: "u2", Type: model.TypeUserToAgent, Msg: "other"},
			{OpenID: "u1", Type: model.TypeAgentToUser, Msg: "second", Time: 42},
		}
		if err := s.InsertAll(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if !(batch[0].ID < batch[1].ID && batch[1].ID < batch[2].ID) || batch[0].Time == 0 || batch[2].Time != 42 {
			t.Fatalf("stored %+v %+v %+v: want ids in order, time filled in unless given", *batch[0], *batch[1], *batch[2])
		}
		assertSessionsCurrent(t, gdb, s)

		// All or none: a row that cannot be stored (a duplicate id) takes
		// the others with it, and their IDs stay 0.
		bad := []*model.Message{
			{OpenID: "u3", Type: model.TypeUserToAgent, Msg: "lost"},
			{ID: batch[0].ID, OpenID: "u3", Type: model.TypeUserToAgent, Msg: "duplicate id"},
		}
		if err := s.InsertAll(ctx, bad); err == nil || errors.Is(err, db.ErrUnavailable) {
			t.Fatalf("a duplicate id: %v, want a plain error", err)
		}
		if bad[0].ID != 0 || bad[1].ID != 0 {
			t.Errorf("ids after a rollback: %d, %d; want 0", bad[0].ID, bad[1].ID)
		}
		if got, _ := s.History(ctx, "u3", 0, 10); len(got) != 0 {
			t.Errorf("u3 has %d messages after a rolled back batch", len(got))
		}
		if err := s.InsertAll(ctx, []*model.Message{{OpenID: "u4", Type: 2, Msg: "x"}, {OpenID: "u4", Type: 9, Msg: "x"}}); err == nil {
			t.Error("a batch with a bad type: want an error")
		}
		if got, _ := s.History(ctx, "u4", 0, 10); len(got) != 0 {
			t.Errorf("u4 has %d messages after a refused batch", len(got))
		}
	})
}

// A conversation keeps the nickname and code of the user's latest message
// that had them, also when a batch ends with an agent's message, and a
// SyncSessions leaves them alone.
func TestSessionSender(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		batch := []*model.Message{
			{OpenID: "u1", Type: model.TypeUserToAgent, Msg: "a", From: model.Sender{Nickname: "旧名", Code: "r1"}},
			{OpenID: "u1", Type: model.TypeUserToAgent, Msg: "b", From: model.Sender{Nickname: "小明", Code: "r2"}},
			{OpenID: "u1", Type: model.TypeAgentToUser, Msg: "reply"},
		}
		if err := s.InsertAll(ctx, batch); err != nil {
			t.Fatal(err)
		}
		check := func(what, nick, code string) {
			t.Helper()
			got, err := s.Session(ctx, "u1")
			if err != nil || got.Nickname != nick || got.Code != code || got.LastMsg != "reply" {
				t.Errorf("%s: %+v, %v; want %s in %s", what, got, err, nick, code)
			}
		}
		check("batch", "小明", "r2")
		send(t, s, "u1", model.TypeAgentToUser, "reply")
		check("an agent's message", "小明", "r2")
		if _, err := s.SyncSessions(ctx); err != nil {
			t.Fatal(err)
		}
		check("after SyncSessions", "小明", "r2")
		if _, err := s.Session(ctx, "nobody"); !errors.Is(err, model.ErrNoSession) {
			t.Errorf("no conversation: %v, want ErrNoSession", err)
		}
	})
}
