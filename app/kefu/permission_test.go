package kefu_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/framework"
	"msgo/framework/msgotest"
)

// Every permission and bad-input rule of the kefu methods (docs/kefu.md): 403
// for a user type the route does not allow and for a wechatUser naming
// another user's conversation, 400 naming the param for one that is
// missing, of the wrong type or out of range (never clamped). None of them
// stores or pushes anything.
func TestPermissionsAndBadInput(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, gdb *gorm.DB) {
		u := on(t, nodes, 0, user("o1"))
		k := on(t, nodes, 1, agent("a1"))
		w := on(t, nodes, 2, framework.Identity{ID: "w1", Type: framework.TypeWall, Code: "room"})
		longID := on(t, nodes, 0, user(strings.Repeat("o", model.MaxOpenIDLen+1)))
		longAgent := on(t, nodes, 1, agent(strings.Repeat("a", model.MaxOpenIDLen+1)))

		type row struct {
			who    string
			cl     *msgotest.Client
			method string
			params map[string]any
			status int
			names  string // the param a 400 names
		}
		p := func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		tooLong := strings.Repeat("字", model.MaxMsgLen+1)
		rows := []row{
			// user types
			{"wall", w, "kefu.chat.send", p("msg", "hi"), 403, ""},
			{"wall", w, "kefu.chat.send", nil, 403, ""}, // 403 before params
			{"wall", w, "kefu.chat.history", nil, 403, ""},
			{"wall", w, "kefu.chat.read", p("up_to_id", 1), 403, ""},
			{"wall", w, "kefu.chat.unread", nil, 403, ""},
			{"wall", w, "kefu.session.list", nil, 403, ""},
			{"wall", w, "kefu.bot.ask", p("message", "hi", "session_id", "s"), 403, ""},
			{"wechatUser", u, "kefu.session.list", nil, 403, ""},
			{"wall", w, "kefu.session.claim", p("openid", "o1"), 403, ""},
			{"wechatUser", u, "kefu.session.claim", p("openid", "o1"), 403, ""},
			{"wechatUser", u, "kefu.session.transfer", p("openid", "o1", "to", "a1"), 403, ""},
			{"wechatUser", u, "kefu.session.release", p("openid", "o1"), 403, ""},
			{"wall", w, "kefu.agent.list", nil, 403, ""},
			{"wechatUser", u, "kefu.agent.list", nil, 403, ""},
			{"wechatUser", u, "kefu.canned.list", nil, 403, ""},
			{"kefu", k, "kefu.bot.ask", p("message", "hi", "session_id", "s"), 403, ""},

			// a wechatUser's conversation is its own
			{"other openid", u, "kefu.chat.send", p("openid", "o2", "msg", "hi"), 403, ""},
			{"other openid", u, "kefu.chat.history", p("openid", "o2"), 403, ""},
			{"other openid", u, "kefu.chat.read", p("openid", "o2", "up_to_id", 1), 403, ""},
			{"other openid", u, "kefu.chat.unread", p("openid", "o2"), 403, ""},
			{"id over 64 characters", longID, "kefu.chat.send", p("msg", "hi"), 403, ""},
			{"agent id over 64 characters", longAgent, "kefu.session.claim", p("openid", "o1"), 403, ""},

			// kefu.chat.send
			{"msg missing", u, "kefu.chat.send", nil, 400, "msg"},
			{"msg null", u, "kefu.chat.send", p("msg", nil), 400, "msg"},
			{"msg empty", u, "kefu.chat.send", p("msg", ""), 400, "msg"},
			{"msg number", u, "kefu.chat.send", p("msg", 5), 400, "msg"},
			{"msg array", u, "kefu.chat.send", p("msg", []string{"a"}), 400, "msg"},
			{"msg 2001 characters", u, "kefu.chat.send", p("msg", tooLong), 400, "msg"},
			{"msg 2001 characters", k, "kefu.chat.send", p("openid", "o1", "msg", tooLong), 400, "msg"},
			{"openid missing", k, "kefu.chat.send", p("msg", "hi"), 400, "openid"},
			{"openid empty", k, "kefu.chat.send", p("openid", "", "msg", "hi"), 400, "openid"},
			{"openid null", k, "kefu.chat.send", p("openid", nil, "msg", "hi"), 400, "openid"},
			{"openid number", k, "kefu.chat.send", p("openid", 123, "msg", "hi"), 400, "openid"},
			{"openid over 64 characters", k, "kefu.chat.send", p("openid", strings.Repeat("o", 65), "msg", "hi"), 400, "openid"},
			{"msg missing", k, "kefu.chat.send", p("openid", "o1"), 400, "msg"},

			// kefu.chat.history
			{"openid missing", k, "kefu.chat.history", nil, 400, "openid"},
			{"limit 0", u, "kefu.chat.history", p("limit", 0), 400, "limit"},
			{"limit 101", k, "kefu.chat.history", p("openid", "o1", "limit", 101), 400, "limit"},
			{"limit -1", u, "kefu.chat.history", p("limit", -1), 400, "limit"},
			{"limit string", u, "kefu.chat.history", p("limit", "5"), 400, "limit"},
			{"limit fraction", u, "kefu.chat.history", p("limit", 1.5), 400, "limit"},
			{"before_id 0", u, "kefu.chat.history", p("before_id", 0), 400, "before_id"},
			{"before_id negative", u, "kefu.chat.history", p("before_id", -3), 400, "before_id"},
			{"before_id string", u, "kefu.chat.history", p("before_id", "9"), 400, "before_id"},

			// kefu.chat.read
			{"up_to_id missing", u, "kefu.chat.read", nil, 400, "up_to_id"},
			{"up_to_id null", u, "kefu.chat.read", p("up_to_id", nil), 400, "up_to_id"},
			{"up_to_id 0", u, "kefu.chat.read", p("up_to_id", 0), 400, "up_to_id"},
			{"up_to_id string", k, "kefu.chat.read", p("openid", "o1", "up_to_id", "7"), 400, "up_to_id"},
			{"openid missing", k, "kefu.chat.read", p("up_to_id", 1), 400, "openid"},

			// kefu.session.list
			{"limit 0", k, "kefu.session.list", p("limit", 0), 400, "limit"},
			{"limit 101", k, "kefu.session.list", p("limit", 101), 400, "limit"},
			{"limit string", k, "kefu.session.list", p("limit", "x"), 400, "limit"},
			{"owner unknown", k, "kefu.session.list", p("owner", "everyone"), 400, "owner"},
			{"owner number", k, "kefu.session.list", p("owner", 1), 400, "owner"},

			// claims, transfers, releases
			{"openid missing", k, "kefu.session.claim", nil, 400, "openid"},
			{"openid number", k, "kefu.session.claim", p("openid", 1), 400, "openid"},
			{"openid missing", k, "kefu.session.release", nil, 400, "openid"},
			{"openid missing", k, "kefu.session.transfer", p("to", "a1"), 400, "openid"},
			{"to missing", k, "kefu.session.transfer", p("openid", "o1"), 400, "to"},
			{"to empty", k, "kefu.session.transfer", p("openid", "o1", "to", ""), 400, "to"},
			{"to number", k, "kefu.session.transfer", p("openid", "o1", "to", 5), 400, "to"},

			// kefu.bot.ask
			{"message missing", u, "kefu.bot.ask", p("session_id", "s"), 400, "message"},
			{"message empty", u, "kefu.bot.ask", p("message", "", "session_id", "s"), 400, "message"},
			{"message number", u, "kefu.bot.ask", p("message", 1, "session_id", "s"), 400, "message"},
			{"message 2001 characters", u, "kefu.bot.ask", p("message", tooLong, "session_id", "s"), 400, "message"},
			{"session_id missing", u, "kefu.bot.ask", p("message", "hi"), 400, "session_id"},
			{"session_id empty", u, "kefu.bot.ask", p("message", "hi", "session_id", ""), 400, "session_id"},
			{"session_id number", u, "kefu.bot.ask", p("message", "hi", "session_id", 7), 400, "session_id"},
			{"session_id over 128 characters", u, "kefu.bot.ask", p("message", "hi", "session_id", strings.Repeat("s", 129)), 400, "session_id"},

			{"unknown method", u, "kefu.chat.nope", nil, 404, ""},
		}
		for _, r := range rows {
			rep := r.cl.Request(t, r.method, r.params)
			what := r.who + " " + r.method
			if r.names != "" {
				expect(t, what, rep, r.status, r.names)
			} else {
				expect(t, what, rep, r.status)
			}
			if rep.Event != r.method {
				t.Errorf("%s: event %q, want the method", what, rep.Event)
			}
		}
		msgotest.NoPush(t, quiet, "kefu.message", "anyone", u, k, w, longID)
		msgotest.NoPush(t, quiet, "kefu.bot", "anyone", u, k, w)
		var n int64
		if err := gdb.Table("chat").Count(&n).Error; err != nil || n != 0 {
			t.Errorf("rejected requests stored %d rows (%v)", n, err)
		}

		// The boundaries themselves are accepted; a wechatUser may name
		// itself; null means absent.
		send(t, u, "o1", strings.Repeat("字", model.MaxMsgLen))
		send(t, k, strings.Repeat("o", model.MaxOpenIDLen), "x")
		history(t, u, map[string]any{"limit": 100, "before_id": nil})
		history(t, k, map[string]any{"openid": "o1", "limit": 1})
		call(t, k, "kefu.session.list", map[string]any{"limit": 100}, nil)
		call(t, k, "kefu.session.list", map[string]any{"limit": nil}, nil)
	})
}
