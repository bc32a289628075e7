package live_test

import (
	"database/sql/driver"
	"fmt"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"msgo/app/live"
	"msgo/framework/msgotest"
	"msgo/library/db/dbtest"
)

// heldParam is a live.message.held push's param, and a pending message.
type heldParam struct {
	HeldID   int64  `json:"held_id"`
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Content  string `json:"content"`
	Time     int64  `json:"time"`
	Word     string `json:"word"`
}

type moderatedParam struct {
	HeldID   int64  `json:"held_id"`
	Decision string `json:"decision"`
	Seq      int64  `json:"seq"`
}

// sendHeld sends content and expects the reply {"held":true}.
func sendHeld(t *testing.T, cl *msgotest.Client, content string) {
	t.Helper()
	r := cl.Request(t, "live.message.send", map[string]any{"content": content})
	if r.Status != 200 || jsonString(r.Param) != `{"held":true}` {
		t.Fatalf("send %q: %d %s, want {\"held\":true}", content, r.Status, r.Param)
	}
}

func awaitHeld(t *testing.T, cl *msgotest.Client) heldParam {
	t.Helper()
	var h heldParam
	cl.AwaitPush(t, "live.message.held").Decode(t, &h)
	return h
}

func awaitModerated(t *testing.T, cl *msgotest.Client) moderatedParam {
	t.Helper()
	var m moderatedParam
	cl.AwaitPush(t, "live.message.moderated").Decode(t, &m)
	return m
}

func pending(t *testing.T, w *msgotest.Client) (string, []heldParam) {
	t.Helper()
	r := w.Request(t, "live.moderation.pending", nil)
	if r.Status != 200 {
		t.Fatalf("pending: %d %s", r.Status, r.Info)
	}
	var p struct {
		Mode     string
		Messages []heldParam
	}
	r.Decode(t, &p)
	if p.Messages == nil {
		t.Fatalf("pending: messages %s, want an array", r.Param)
	}
	return p.Mode, p.Messages
}

// With hold_all every message waits: the sender hears {"held":true}, the
// walls (screen and moderator, on any node) get live.message.held and the
// guests nothing; an approval puts it on the wall with the next seq, a
// rejection drops it, a second decision is 400, and history holds approved
// messages only, gap-free. Only joined walls moderate.
func TestModerationHoldAll(t *testing.T) {
	o := live.Options{Moderation: live.Moderation{Mode: "hold_all", DropWords: []string{"spam"}}}
	eachSetupWith(t, o, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room = "moderated"
		screen := on(t, nodes, 0, wall("screen", room))
		mod := on(t, nodes, 1, wall("mod", room))
		u1 := on(t, nodes, 2, user("u1", room))
		u2 := on(t, nodes, 0, user("u2", room))
		walls, guests := []*msgotest.Client{screen, mod}, []*msgotest.Client{u1, u2}
		for _, cl := range append(walls, guests...) {
			join(t, cl)
		}

		sendHeld(t, u1, "hello wall")
		var first heldParam
		for _, w := range walls {
			first = awaitHeld(t, w)
			if first.HeldID == 0 || first.ID != "u1" || first.Nickname != "昵称-u1" || first.Content != "hello wall" || first.Time == 0 || first.Word != "" {
				t.Fatalf("held push: %+v", first)
			}
		}
		sendHeld(t, u2, "second")
		second := awaitHeld(t, mod)
		awaitHeld(t, screen)
		sendHeld(t, u1, "buy S-P-A-M now") // dropped: told held, shown to nobody
		msgotest.NoPush(t, quiet, "live.message.held", "wall", walls...)
		msgotest.NoPush(t, 0, "live.message", "member", append(walls, guests...)...)

		mode, msgs := pending(t, screen)
		if mode != "hold_all" || len(msgs) != 2 || msgs[0] != first || msgs[1] != second {
			t.Fatalf("pending: %s %+v, want %+v %+v", mode, msgs, first, second)
		}
		for _, m := range []string{"live.moderation.pending", "live.moderation.approve", "live.moderation.reject"} {
			expect(t, "guest "+m, u1.Request(t, m, map[string]any{"held_id": first.HeldID}), 403)
		}
		outsider := on(t, nodes, 1, wall("outsider", room)) // not joined
		expect(t, "unjoined wall approves", outsider.Request(t, "live.moderation.approve", map[string]any{"held_id": first.HeldID}), 403)

		r := mod.Request(t, "live.moderation.approve", map[string]any{"held_id": first.HeldID})
		var approved struct{ Seq, Time int64 }
		r.Decode(t, &approved)
		if r.Status != 200 || approved.Seq != 1 || approved.Time == 0 {
			t.Fatalf("approve: %d %s", r.Status, r.Param)
		}
		for _, cl := range append(walls, guests...) {
			if m := messages(t, cl, 1)[0]; m.Seq != 1 || m.ID != "u1" || m.Content != "hello wall" || m.Nickname != "昵称-u1" {
				t.Errorf("approved message pushed as %+v", m)
			}
		}
		for _, w := range walls {
			if m := awaitModerated(t, w); m != (moderatedParam{first.HeldID, "approved", 1}) {
				t.Errorf("moderated push: %+v", m)
			}
		}
		msgotest.NoPush(t, quiet, "live.message.moderated", "guest", guests...)
		expect(t, "approve twice", screen.Request(t, "live.moderation.approve", map[string]any{"held_id": first.HeldID}), 400, "not waiting")
		expect(t, "reject an approved one", screen.Request(t, "live.moderation.reject", map[string]any{"held_id": first.HeldID}), 400, "not waiting")

		r = screen.Request(t, "live.moderation.reject", map[string]any{"held_id": second.HeldID})
		if r.Status != 200 || jsonString(r.Param) != jsonString(map[string]int64{"held_id": second.HeldID}) {
			t.Fatalf("reject: %d %s", r.Status, r.Param)
		}
		for _, w := range walls {
			if m := awaitModerated(t, w); m != (moderatedParam{second.HeldID, "rejected", 0}) {
				t.Errorf("rejected push: %+v", m)
			}
		}
		msgotest.NoPush(t, quiet, "live.message", "member", append(walls, guests...)...)
		if _, msgs := pending(t, mod); len(msgs) != 0 {
			t.Errorf("pending after deciding everything: %+v", msgs)
		}

		// The next approval continues the seq: no gap for the rejected one.
		sendHeld(t, u2, "third")
		third := awaitHeld(t, screen)
		r = screen.Request(t, "live.moderation.approve", map[string]any{"held_id": third.HeldID})
		r.Decode(t, &approved)
		if approved.Seq != 2 {
			t.Fatalf("second approval: %s, want seq 2", r.Param)
		}
		got := history(t, u1, nil)
		if len(got) != 2 || got[0].Content != "hello wall" || got[1].Content != "third" || got[1].Seq != 2 {
			t.Errorf("history: %+v", got)
		}

		expect(t, "approve without held_id", mod.Request(t, "live.moderation.approve", nil), 400, "held_id")
		expect(t, "reject unknown", mod.Request(t, "live.moderation.reject", map[string]any{"held_id": 999999}), 400, "not waiting")
		expect(t, "pending limit 0", mod.Request(t, "live.moderation.pending", map[string]any{"limit": 0}), 400, "limit")

		// A wall of another room can neither see nor decide this room's queue.
		sendHeld(t, u1, "fourth")
		fourth := awaitHeld(t, mod)
		other := on(t, nodes, 2, wall("other", "elsewhere"))
		join(t, other)
		if _, msgs := pending(t, other); len(msgs) != 0 {
			t.Errorf("another room's pending: %+v", msgs)
		}
		expect(t, "another room approves", other.Request(t, "live.moderation.approve", map[string]any{"held_id": fourth.HeldID}), 400, "not waiting")
	})
}

// With mode off, words decide: a hold word holds a message (the push names
// the word), a drop word drops it, spaces, punctuation and case do not hide
// a word, and everything else goes on the wall at once.
func TestModerationWords(t *testing.T) {
	o := live.Options{Moderation: live.Moderation{HoldWords: []string{"广告", "WeChat"}, DropWords: []string{"骂人"}}}
	eachSetupWith(t, o, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room = "words"
		w := on(t, nodes, 0, wall("w", room))
		u := on(t, nodes, 1, user("u", room))
		join(t, w)
		join(t, u)

		if seq := send(t, u, "大家好"); seq != 1 {
			t.Fatalf("plain message: seq %d", seq)
		}
		messages(t, w, 1)
		sendHeld(t, u, "这是 广，告！")
		if h := awaitHeld(t, w); h.Word != "广告" || h.Content != "这是 广，告！" {
			t.Errorf("held by word: %+v", h)
		}
		sendHeld(t, u, "add me on we.chat")
		if h := awaitHeld(t, w); h.Word != "wechat" {
			t.Errorf("held by word: %+v", h)
		}
		sendHeld(t, u, "你 骂-人 了广告") // a drop word wins over a hold word
		msgotest.NoPush(t, quiet, "live.message.held", "wall", w)
		msgotest.NoPush(t, 0, "live.message", "wall", w)

		mode, msgs := pending(t, w)
		if mode != "off" || len(msgs) != 2 {
			t.Fatalf("pending: %s %+v", mode, msgs)
		}
		r := w.Request(t, "live.moderation.approve", map[string]any{"held_id": msgs[0].HeldID})
		var p struct{ Seq int64 }
		r.Decode(t, &p)
		if p.Seq != 2 {
			t.Errorf("approved a held message: %s, want seq 2", r.Param)
		}
		if m := messages(t, u, 2); m[1].Seq != 2 || m[1].Content != "这是 广，告！" {
			t.Errorf("guest saw %+v", m)
		}
	})
}

// Replies and pushes carrying online also carry guests: the distinct
// wechatUsers in the room, cluster-wide, so a wall screen and a moderator
// page do not count as guests; live.room.online lists one type on demand.
func TestGuests(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room = "guests"
		screen := on(t, nodes, 0, wall("screen", room))
		r := screen.Request(t, "live.user.join", nil)
		if jsonString(r.Param) != `{"room":"guests","online":1,"guests":0}` {
			t.Fatalf("wall joins: %s", r.Param)
		}
		mod := on(t, nodes, 1, wall("mod", room))
		if r := mod.Request(t, "live.user.join", nil); jsonString(r.Param) != `{"room":"guests","online":2,"guests":0}` {
			t.Fatalf("moderator joins: %s", r.Param)
		}
		want := []struct{ online, guests int }{{3, 1}, {3, 1}, {4, 2}, {5, 3}, {6, 4}}
		ids := []string{"g1", "g1", "g2", "g3", "g4"} // g1 on two devices
		var phones []*msgotest.Client
		for i, id := range ids {
			cl := on(t, nodes, i+2, user(id, room))
			phones = append(phones, cl)
			r := cl.Request(t, "live.user.join", nil)
			var p struct{ Online, Guests int }
			r.Decode(t, &p)
			if p.Online != want[i].online || p.Guests != want[i].guests {
				t.Errorf("join %d (%s): %s, want online %d guests %d", i, id, r.Param, want[i].online, want[i].guests)
			}
			for screenSaw := awaitPresence(t, screen, "live.user.join"); screenSaw.ID != id; screenSaw = awaitPresence(t, screen, "live.user.join") {
			}
		}
		r = screen.Request(t, "live.room.online", map[string]any{"type": "wechatUser", "limit": 2})
		if jsonString(r.Param) != `{"online":6,"guests":4,"users":[{"id":"g1","nickname":"昵称-g1","type":"wechatUser"},{"id":"g2","nickname":"昵称-g2","type":"wechatUser"}]}` {
			t.Errorf("guests list: %s", r.Param)
		}
		r = phones[0].Request(t, "live.room.online", map[string]any{"type": "wall"})
		if jsonString(r.Param) != `{"online":6,"guests":4,"users":[{"id":"mod","nickname":"wall-mod","type":"wall"},{"id":"screen","nickname":"wall-screen","type":"wall"}]}` {
			t.Errorf("walls list: %s", r.Param)
		}
		expect(t, "type kefu", screen.Request(t, "live.room.online", map[string]any{"type": "kefu"}), 400, "type")

		// The moderator leaves: online drops, guests stay; a guest
		// disconnects: both drop, and the push says so.
		mod.Close()
		if p := awaitPresence(t, screen, "live.user.leave"); p.Online != 5 || p.Guests != 4 || p.Type != "wall" {
			t.Errorf("moderator left: %+v", p)
		}
		phones[4].Close()
		if p := awaitPresence(t, screen, "live.user.leave"); p.Online != 4 || p.Guests != 3 || p.ID != "g4" {
			t.Errorf("guest left: %+v", p)
		}
		r = phones[1].Request(t, "live.user.leave", nil) // g1's second device: g1 is still in
		if jsonString(r.Param) != `{"room":"guests","online":4,"guests":3}` {
			t.Errorf("second device leaves: %s", r.Param)
		}
	})
}

// An approval whose message cannot be stored answers 503 and puts the held
// message back in the queue, under its id, for a retry; nothing is pushed,
// and the retry takes seq 1: no gap.
func TestModerationApproveOutage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		migrated(t, gdb)
		var fail atomic.Bool
		err := gdb.Callback().Create().Before("gorm:create").Register("test:fail-live-message", func(tx *gorm.DB) {
			if fail.Load() && tx.Statement.Table == "live_message" {
				tx.AddError(fmt.Errorf("injected outage: %w", driver.ErrBadConn))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		n := startNodeWith(t, nil, "outage", live.Options{DB: gdb, Moderation: live.Moderation{Mode: "hold_all"}})
		w := n.Dial(t, wall("w", "outage"))
		u := n.Dial(t, user("u", "outage"))
		join(t, w)
		join(t, u)
		sendHeld(t, u, "wait for me")
		h := awaitHeld(t, w)

		fail.Store(true)
		expect(t, "approve while the table fails", w.Request(t, "live.moderation.approve", map[string]any{"held_id": h.HeldID}), 503)
		fail.Store(false)
		msgotest.NoPush(t, quiet, "live.message", "member", w, u)
		msgotest.NoPush(t, 0, "live.message.moderated", "wall", w)
		if _, msgs := pending(t, w); len(msgs) != 1 || msgs[0] != h {
			t.Fatalf("pending after a failed approval: %+v, want %+v", msgs, h)
		}
		r := w.Request(t, "live.moderation.approve", map[string]any{"held_id": h.HeldID})
		var p struct{ Seq int64 }
		r.Decode(t, &p)
		if r.Status != 200 || p.Seq != 1 {
			t.Fatalf("retry: %d %s", r.Status, r.Param)
		}
		if m := messages(t, u, 1)[0]; m.Content != "wait for me" || m.Seq != 1 {
			t.Errorf("pushed %+v", m)
		}
	})
}
