package live_test

import (
	"testing"

	"gorm.io/gorm"

	"msgo/framework/msgotest"
)

type presenceParam struct {
	ID, Nickname, Type string
	Online, Guests     int
}

func awaitPresence(t *testing.T, cl *msgotest.Client, event string) presenceParam {
	t.Helper()
	var p presenceParam
	cl.Await(t, event).Decode(t, &p)
	return p
}

// Join answers {room, online} and pushes live.user.join to the room, the
// joiner included; online counts distinct users cluster-wide, walls
// included; leave and disconnect push live.user.leave exactly once per
// connection.
func TestJoinLeaveAndDisconnect(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room = "presence"
		w := on(t, nodes, 0, wall("w1", room))
		r := w.Request(t, "live.user.join", nil)
		if r.Status != 200 || jsonString(r.Param) != `{"room":"presence","online":1,"guests":0}` {
			t.Fatalf("join reply: %d %s", r.Status, r.Param)
		}
		if p := awaitPresence(t, w, "live.user.join"); p != (presenceParam{"w1", "wall-w1", "wall", 1, 0}) {
			t.Errorf("joiner's own push: %+v", p)
		}

		u1 := on(t, nodes, 1, user("u1", room))
		if n := join(t, u1); n != 2 {
			t.Errorf("online after u1 joined: %d, want 2", n)
		}
		awaitPresence(t, u1, "live.user.join")
		if p := awaitPresence(t, w, "live.user.join"); p != (presenceParam{"u1", "昵称-u1", "wechatUser", 2, 1}) {
			t.Errorf("wall saw u1 join as %+v", p)
		}
		// u1's second device, on another node: a second join push, the
		// same online count.
		u1b := on(t, nodes, 2, user("u1", room))
		if n := join(t, u1b); n != 2 {
			t.Errorf("online after u1's second device joined: %d, want 2", n)
		}
		for _, cl := range []*msgotest.Client{w, u1} {
			if p := awaitPresence(t, cl, "live.user.join"); p.ID != "u1" || p.Online != 2 {
				t.Errorf("u1's second device's join seen as %+v", p)
			}
		}
		// Joining again changes nothing and pushes nothing.
		if n := join(t, u1b); n != 2 {
			t.Errorf("second join of one connection: online %d", n)
		}
		awaitPresence(t, u1b, "live.user.join") // its first join's own push
		msgotest.NoPush(t, quiet, "live.user.join", "member", w, u1, u1b)

		// Explicit leave of one device: pushed to the others, not to the leaver.
		r = u1b.Request(t, "live.user.leave", nil)
		if r.Status != 200 || jsonString(r.Param) != `{"room":"presence","online":2,"guests":1}` {
			t.Fatalf("leave reply: %d %s", r.Status, r.Param)
		}
		for _, cl := range []*msgotest.Client{w, u1} {
			if p := awaitPresence(t, cl, "live.user.leave"); p != (presenceParam{"u1", "昵称-u1", "wechatUser", 2, 1}) {
				t.Errorf("leave push: %+v", p)
			}
		}
		expect(t, "leave twice", u1b.Request(t, "live.user.leave", nil), 403)
		expect(t, "send after leaving", u1b.Request(t, "live.message.send", map[string]any{"content": "x"}), 403)
		u1b.Close() // left already: its disconnect pushes nothing

		// Disconnect of u1's last device counts as leaving, once.
		u1.Close()
		if p := awaitPresence(t, w, "live.user.leave"); p != (presenceParam{"u1", "昵称-u1", "wechatUser", 1, 0}) {
			t.Errorf("disconnect push: %+v", p)
		}
		msgotest.NoPush(t, quiet, "live.user.leave", "wall", w)
		if r := w.Request(t, "live.room.online", nil); jsonString(r.Param) != `{"online":1,"guests":0,"users":[{"id":"w1","nickname":"wall-w1","type":"wall"}]}` {
			t.Errorf("online after everyone left: %s", r.Param)
		}
	})
}
