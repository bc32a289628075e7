package live_test

import (
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// Every permission and limit row of the live methods (docs/live.md): 403 for
// a user type the route does not allow or a connection that has not
// joined, 400 naming the param for a missing, wrong-typed or out-of-range
// one (limits are never clamped).
func TestPermissionsAndLimits(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room = "rules"
		u := on(t, nodes, 0, user("u1", room))
		w := on(t, nodes, 1, wall("w1", room))
		for _, cl := range []*msgotest.Client{u, w} {
			join(t, cl)
		}
		outU := on(t, nodes, 2, user("u2", room)) // same room, not joined
		outW := on(t, nodes, 0, wall("w2", room))
		kefu := on(t, nodes, 1, framework.Identity{ID: "k1", Type: framework.TypeKefu, Code: room})
		noCode := on(t, nodes, 2, user("u3", ""))
		longCode := on(t, nodes, 0, user("u4", strings.Repeat("房", 65)))
		for i := range 55 {
			send(t, u, fmt.Sprint("m", i))
		}

		type row struct {
			who    string
			cl     *msgotest.Client
			method string
			params map[string]any
			status int
			names  string // the param a 400 names
		}
		content := func(v any) map[string]any { return map[string]any{"content": v} }
		limit := func(v any) map[string]any { return map[string]any{"limit": v} }
		after := func(v any) map[string]any { return map[string]any{"after_seq": v} }
		count := func(v any) map[string]any { return map[string]any{"count": v} }
		held := func(v any) map[string]any { return map[string]any{"held_id": v} }
		afterID := func(v any) map[string]any { return map[string]any{"after_id": v} }
		rows := []row{
			{"kefu", kefu, "live.user.join", nil, 403, ""},
			{"no code", noCode, "live.user.join", nil, 403, ""},
			{"code over 64 characters", longCode, "live.user.join", nil, 403, ""},
			{"kefu", kefu, "live.user.leave", nil, 403, ""},
			{"not joined", outU, "live.user.leave", nil, 403, ""},

			{"wall", w, "live.message.send", content("hi"), 403, ""},
			{"kefu", kefu, "live.message.send", content("hi"), 403, ""},
			{"not joined", outU, "live.message.send", content("hi"), 403, ""},
			{"missing", u, "live.message.send", nil, 400, "content"},
			{"null", u, "live.message.send", content(nil), 400, "content"},
			{"number", u, "live.message.send", content(5), 400, "content"},
			{"object", u, "live.message.send", content(map[string]any{"a": 1}), 400, "content"},
			{"empty", u, "live.message.send", content(""), 400, "content"},
			{"501 characters", u, "live.message.send", content(strings.Repeat("字", 501)), 400, "content"},
			{"500 characters", u, "live.message.send", content(strings.Repeat("😀", 500)), 200, ""},
			{"1 character", u, "live.message.send", content(" "), 200, ""},

			{"kefu", kefu, "live.message.history", nil, 403, ""},
			{"not joined", outW, "live.message.history", nil, 403, ""},
			{"limit 0", w, "live.message.history", limit(0), 400, "limit"},
			{"limit 101", w, "live.message.history", limit(101), 400, "limit"},
			{"limit -1", w, "live.message.history", limit(-1), 400, "limit"},
			{"limit string", w, "live.message.history", limit("5"), 400, "limit"},
			{"limit fraction", w, "live.message.history", limit(1.5), 400, "limit"},
			{"after_seq -1", w, "live.message.history", after(-1), 400, "after_seq"},
			{"after_seq string", w, "live.message.history", after("3"), 400, "after_seq"},
			{"after_seq fraction", w, "live.message.history", after(2.5), 400, "after_seq"},
			{"limit 100", w, "live.message.history", limit(100), 200, ""},
			{"user", u, "live.message.history", limit(1), 200, ""},

			{"kefu", kefu, "live.room.online", nil, 403, ""},
			{"not joined", outU, "live.room.online", nil, 403, ""},
			{"limit 0", u, "live.room.online", limit(0), 400, "limit"},
			{"limit 1001", u, "live.room.online", limit(1001), 400, "limit"},
			{"limit string", u, "live.room.online", limit("1"), 400, "limit"},
			{"limit 1000", u, "live.room.online", limit(1000), 200, ""},

			{"wechatUser", u, "live.wall.lottery", count(1), 403, ""},
			{"kefu", kefu, "live.wall.lottery", count(1), 403, ""},
			{"wall not joined", outW, "live.wall.lottery", count(1), 403, ""},
			{"missing", w, "live.wall.lottery", nil, 400, "count"},
			{"null", w, "live.wall.lottery", count(nil), 400, "count"},
			{"0", w, "live.wall.lottery", count(0), 400, "count"},
			{"-1", w, "live.wall.lottery", count(-1), 400, "count"},
			{"string", w, "live.wall.lottery", count("3"), 400, "count"},
			{"fraction", w, "live.wall.lottery", count(1.5), 400, "count"},
			{"huge", w, "live.wall.lottery", count(1e30), 400, "count"},

			{"wechatUser", u, "live.moderation.pending", nil, 403, ""},
			{"kefu", kefu, "live.moderation.pending", nil, 403, ""},
			{"wall not joined", outW, "live.moderation.pending", nil, 403, ""},
			{"limit 0", w, "live.moderation.pending", limit(0), 400, "limit"},
			{"limit 101", w, "live.moderation.pending", limit(101), 400, "limit"},
			{"after_id -1", w, "live.moderation.pending", afterID(-1), 400, "after_id"},
			{"after_id string", w, "live.moderation.pending", afterID("1"), 400, "after_id"},
			{"limit 100", w, "live.moderation.pending", limit(100), 200, ""},
			{"room type", u, "live.room.online", map[string]any{"type": "kefu"}, 400, "type"},
			{"room type number", u, "live.room.online", map[string]any{"type": 1}, 400, "type"},
		}
		for _, m := range []string{"live.moderation.approve", "live.moderation.reject"} {
			rows = append(rows,
				row{"wechatUser", u, m, held(1), 403, ""},
				row{"kefu", kefu, m, held(1), 403, ""},
				row{"wall not joined", outW, m, held(1), 403, ""},
				row{"missing", w, m, nil, 400, "held_id"},
				row{"null", w, m, held(nil), 400, "held_id"},
				row{"string", w, m, held("1"), 400, "held_id"},
				row{"unknown", w, m, held(1), 400, "held message 1"},
			)
		}
		for _, r := range rows {
			what := fmt.Sprintf("%s %s", r.method, r.who)
			var names []string
			if r.names != "" {
				names = []string{r.names}
			}
			rep := r.cl.Request(t, r.method, r.params)
			expect(t, what, rep, r.status, names...)
			if rep.Event != r.method {
				t.Errorf("%s: event %q", what, rep.Event)
			}
		}

		// Defaults: history's 50 oldest, ascending; online's whole small room.
		h := history(t, w, nil)
		if len(h) != 50 || h[0].Seq != 1 || h[49].Seq != 50 {
			t.Errorf("default history: %v", seqsOf(h))
		}
		r := u.Request(t, "live.room.online", limit(1))
		var on struct {
			Online int
			Users  []framework.Member
		}
		r.Decode(t, &on)
		if on.Online != 2 || len(on.Users) != 1 {
			t.Errorf("online with limit 1: %s", r.Param)
		}
		// Method names are matched without regard to case.
		if r := w.Request(t, "Live.Message.History", limit(1)); r.Status != 200 || r.Event != "live.message.history" {
			t.Errorf("mixed-case method: %d %s", r.Status, r.Event)
		}
	})
}
