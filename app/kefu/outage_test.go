package kefu_test

import (
	"msgo/app/apptest"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"

	"msgo/app/kefu"
	"msgo/framework/msgotest"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// With the database out of reach every kefu.chat and kefu.session method
// answers 503 and nothing is pushed; the bot, which needs no database,
// still answers.
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, nodes []*msgotest.Server) {
		u := on(t, nodes, 0, user("o1"))
		k := on(t, nodes, len(nodes)-1, agent("a1"))
		k2 := on(t, nodes, 1, agent("a2"))
		for _, r := range []struct {
			cl     *msgotest.Client
			method string
			params map[string]any
		}{
			{u, "kefu.chat.send", map[string]any{"msg": "lost"}},
			{k, "kefu.chat.send", map[string]any{"openid": "o1", "msg": "lost"}},
			{u, "kefu.chat.history", nil},
			{k, "kefu.chat.history", map[string]any{"openid": "o1"}},
			{u, "kefu.chat.read", map[string]any{"up_to_id": 1}},
			{k, "kefu.chat.read", map[string]any{"openid": "o1", "up_to_id": 1}},
			{u, "kefu.chat.unread", nil},
			{k, "kefu.chat.unread", nil},
			{k, "kefu.session.list", nil},
		} {
			expect(t, r.method, r.cl.Request(t, r.method, r.params), 503)
		}
		msgotest.NoPush(t, quiet, "kefu.message", "user or agent", u, k, k2)
		id := u.Call(t, "kefu.bot.ask", map[string]any{"message": "refund", "session_id": "s"})
		streamed(t, u, id, "s")
	}
	apptest.DatabaseDown(t, kefu.Models(), startNodes, check)
}

// A restart of msgo (the node stops, a new process opens the same
// database) loses nothing: a user who was offline finds the agents'
// messages in history and unread, agents find their sessions.
func TestDataSurvivesRestart(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		first := startNode(t, kefu.Options{DB: migrated(t, gdb)}, nil, "before")
		u := first.Dial(t, user("o1"))
		k := first.Dial(t, agent("a1"))
		q := send(t, u, "", "is my order on its way?")
		u.Close()
		a1 := send(t, k, "o1", "yes, it shipped today")
		a2 := send(t, k, "o1", "tracking: SF123")
		first.Stop()

		gdb = reopen(t, gdb)
		next := startNode(t, kefu.Options{DB: migrated(t, gdb)}, nil, "after")
		u = next.Dial(t, user("o1"))
		k = next.Dial(t, agent("a2"))
		got := history(t, u, nil)
		if want := []int64{a2.ID, a1.ID, q.ID}; jsonString(idsOf(got)) != jsonString(want) {
			t.Fatalf("history after the restart: %v, want %v", idsOf(got), want)
		}
		var unread struct{ Unread int64 }
		call(t, u, "kefu.chat.unread", nil, &unread)
		if unread.Unread != 2 {
			t.Errorf("user unread after the restart: %d, want 2", unread.Unread)
		}
		var sessions unreadSessions
		call(t, k, "kefu.chat.unread", nil, &sessions)
		if got := jsonString(sessions.Sessions); got != `[{"openid":"o1","unread":1}]` {
			t.Errorf("agent unread after the restart: %s", got)
		}
		var list sessionList
		call(t, k, "kefu.session.list", nil, &list)
		if len(list.Sessions) != 1 || list.Sessions[0].LastMsg != a2.Msg || list.Sessions[0].LastTime != a2.Time {
			t.Errorf("sessions after the restart: %+v", list.Sessions)
		}
		if m := send(t, u, "", "thanks!"); m.ID <= a2.ID {
			t.Errorf("new message id %d not after %d", m.ID, a2.ID)
		}
	})
}

// reopen closes gdb and opens its database again, as a restarted process
// does.
func reopen(t testing.TB, gdb *gorm.DB) *gorm.DB {
	t.Helper()
	var o db.Options
	switch d := gdb.Dialector.(type) {
	case *sqlite.Dialector:
		o = db.Options{Driver: db.DriverSQLite, DSN: d.DSN}
	case *mysql.Dialector:
		o = db.Options{Driver: db.DriverMySQL, DSN: d.DSN}
	default:
		t.Fatalf("reopen: unknown dialector %T", d)
	}
	db.Close(gdb)
	next, err := db.Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(next) })
	return next
}
