package kefu_test

import (
	"encoding/json"
	"slices"
	"testing"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/framework"
	"msgo/framework/msgotest"
)

// sessionEntry is a kefu.session.list entry, every field the wire has.
type sessionEntry struct {
	OpenID    string `json:"openid"`
	LastMsg   string `json:"last_msg"`
	LastTime  int64  `json:"last_time"`
	Unread    int64  `json:"unread"`
	MyUnread  *int64 `json:"my_unread"`
	MyReadID  *int64 `json:"my_read_id"`
	Nickname  string `json:"nickname"`
	Code      string `json:"code"`
	AgentID   string `json:"agent_id"`
	AgentName string `json:"agent_name"`
}

// assignment is a kefu.session push.
type assignment struct {
	Action string `json:"action"`
	By     struct {
		ID       string `json:"id"`
		Nickname string `json:"nickname"`
	} `json:"by"`
	Session sessionEntry `json:"session"`
}

// sessions returns kefu.session.list as cl sees it, by openid.
func sessions(t testing.TB, cl *msgotest.Client, params map[string]any) map[string]sessionEntry {
	t.Helper()
	var p struct{ Sessions []sessionEntry }
	call(t, cl, "kefu.session.list", params, &p)
	out := make(map[string]sessionEntry, len(p.Sessions))
	for _, s := range p.Sessions {
		if s.MyUnread == nil || s.MyReadID == nil {
			t.Fatalf("session list entry %+v has no my_unread or my_read_id", s)
		}
		out[s.OpenID] = s
	}
	return out
}

func openids(m map[string]sessionEntry) []string {
	var out []string
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// expectAssignment waits for a kefu.session push on each of cls and checks
// its action, actor and assignee.
func expectAssignment(t testing.TB, action, by, openid, agentID, agentName string, cls ...*msgotest.Client) {
	t.Helper()
	for i, cl := range cls {
		var a assignment
		cl.AwaitPush(t, "kefu.session").Decode(t, &a)
		if a.Action != action || a.By.ID != by || a.Session.OpenID != openid || a.Session.AgentID != agentID || a.Session.AgentName != agentName || a.Session.MyUnread != nil || a.Session.MyReadID != nil {
			t.Errorf("connection %d: kefu.session %+v, want %s by %s of %s to %q (%q), no my_unread", i, a, action, by, openid, agentID, agentName)
		}
	}
}

// The session list names each user by the nickname and room code of its
// token, and tells who the conversation is assigned to.
func TestSessionsCarryNamesAndAssignment(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		ming := on(t, nodes, 0, framework.Identity{ID: "o1", Type: framework.TypeWechatUser, Nickname: "小明", Code: "room-7"})
		a1 := on(t, nodes, 1, agent("a1"))
		send(t, ming, "", "我的快递还没到")
		send(t, a1, "o2", "您好") // an agent starts a conversation: no nickname yet
		got := sessions(t, a1, nil)
		if s := got["o1"]; s.Nickname != "小明" || s.Code != "room-7" || s.AgentID != "" || s.AgentName != "" || s.Unread != 1 || *s.MyUnread != 1 {
			t.Errorf("o1: %+v, want nickname 小明, code room-7, unassigned, 1 unread", s)
		}
		if s := got["o2"]; s.Nickname != "" || s.LastMsg != "您好" {
			t.Errorf("o2: %+v, want no nickname, the agent's message", s)
		}

		// A later message with another nickname renames the user; the
		// agent's replies keep the name.
		renamed := on(t, nodes, 2, framework.Identity{ID: "o1", Type: framework.TypeWechatUser, Nickname: "明明"})
		send(t, renamed, "", "在吗")
		send(t, a1, "o1", "在的")
		if s := sessions(t, a1, nil)["o1"]; s.Nickname != "明明" || s.Code != "room-7" || s.LastMsg != "在的" {
			t.Errorf("o1 after a rename and a reply: %+v, want nickname 明明, code kept", s)
		}
	})
}

// An agent claims an unassigned conversation, once: a second agent gets
// 409 naming the first, a conversation that never was 404. Agents see the
// lists split as mine, unassigned and others', and every agent connection
// gets a kefu.session push for each change.
func TestClaimTransferRelease(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		u1 := on(t, nodes, 0, user("o1"))
		u2 := on(t, nodes, 1, user("o2"))
		a1 := on(t, nodes, 1, agent("a1"))
		a2 := on(t, nodes, 2, agent("a2"))
		a2b := on(t, nodes, 0, agent("a2")) // a second device of a2
		lead := on(t, nodes, 2, agent("lead"))
		agents := []*msgotest.Client{a1, a2, a2b, lead}
		send(t, u1, "", "hello")
		send(t, u2, "", "hi")
		for _, a := range agents {
			pushed(t, a)
			pushed(t, a)
		}

		var r struct{ Session sessionEntry }
		call(t, a1, "kefu.session.claim", map[string]any{"openid": "o1"}, &r)
		if r.Session.OpenID != "o1" || r.Session.AgentID != "a1" || r.Session.AgentName != "客服-a1" || r.Session.Nickname != "用户-o1" {
			t.Errorf("claim reply %+v", r.Session)
		}
		expectAssignment(t, "claim", "a1", "o1", "a1", "客服-a1", agents...)
		call(t, a1, "kefu.session.claim", map[string]any{"openid": "o1"}, nil) // again: a no-op
		expectAssignment(t, "claim", "a1", "o1", "a1", "客服-a1", agents...)
		expect(t, "a2 claims a1's", a2.Request(t, "kefu.session.claim", map[string]any{"openid": "o1"}), 409, "客服-a1")
		expect(t, "claim of nothing", a2.Request(t, "kefu.session.claim", map[string]any{"openid": "nobody"}), 404)
		msgotest.NoPush(t, quiet, "kefu.session", "refused claims", agents...)

		mine := map[string]any{"owner": "mine"}
		for _, tc := range []struct {
			cl    *msgotest.Client
			owner string
			want  []string
		}{
			{a1, "mine", []string{"o1"}}, {a1, "unassigned", []string{"o2"}}, {a1, "others", nil},
			{a2, "mine", nil}, {a2, "others", []string{"o1"}}, {a2, "", []string{"o1", "o2"}},
		} {
			params := map[string]any{"owner": tc.owner}
			if tc.owner == "" {
				params = nil
			}
			if got := openids(sessions(t, tc.cl, params)); !slices.Equal(got, tc.want) {
				t.Errorf("owner %q: %v, want %v", tc.owner, got, tc.want)
			}
		}

		// Transfer: only the holder (or anyone, of an unassigned one), only
		// to an agent who is online.
		tr := func(cl *msgotest.Client, openid, to string) msgotest.Reply {
			return cl.Request(t, "kefu.session.transfer", map[string]any{"openid": openid, "to": to})
		}
		expect(t, "a2 transfers a1's", tr(a2, "o1", "lead"), 409, "客服-a1")
		expect(t, "to an agent not online", tr(a1, "o1", "ghost"), 404, "ghost")
		expect(t, "to a wechatUser", tr(a1, "o1", "o2"), 404)
		expect(t, "of nothing", tr(a1, "nobody", "a2"), 404)
		msgotest.NoPush(t, quiet, "kefu.session", "refused transfers", agents...)
		call(t, a1, "kefu.session.transfer", map[string]any{"openid": "o1", "to": "a2"}, &r)
		if r.Session.AgentID != "a2" || r.Session.AgentName != "客服-a2" {
			t.Errorf("transfer reply %+v", r.Session)
		}
		expectAssignment(t, "transfer", "a1", "o1", "a2", "客服-a2", agents...)
		if got := openids(sessions(t, a2b, mine)); !slices.Equal(got, []string{"o1"}) {
			t.Errorf("a2's own after the transfer: %v", got)
		}
		call(t, lead, "kefu.session.transfer", map[string]any{"openid": "o2", "to": "a1"}, nil) // handing out an unassigned one
		expectAssignment(t, "transfer", "lead", "o2", "a1", "客服-a1", agents...)

		// Release: back to unassigned, by its holder only.
		expect(t, "a1 releases a2's", a1.Request(t, "kefu.session.release", map[string]any{"openid": "o1"}), 409)
		call(t, a2, "kefu.session.release", map[string]any{"openid": "o1"}, &r)
		if r.Session.AgentID != "" || r.Session.AgentName != "" {
			t.Errorf("release reply %+v", r.Session)
		}
		expectAssignment(t, "release", "a2", "o1", "", "", agents...)
		if got := openids(sessions(t, lead, map[string]any{"owner": "unassigned"})); !slices.Equal(got, []string{"o1"}) {
			t.Errorf("unassigned after the release: %v", got)
		}
		msgotest.NoPush(t, quiet, "kefu.session", "users", u1, u2)
	})
}

// Two agents claiming one conversation at once: exactly one gets it.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		u := on(t, nodes, 0, user("o1"))
		send(t, u, "", "first come")
		const n = 6
		cls := make([]*msgotest.Client, n)
		for i := range cls {
			cls[i] = on(t, nodes, i, agent(string(rune('a'+i))))
		}
		ids := make([]json.RawMessage, n)
		for i, cl := range cls {
			ids[i] = cl.Call(t, "kefu.session.claim", map[string]any{"openid": "o1"})
		}
		won := 0
		for i, cl := range cls {
			switch r := cl.AwaitID(t, ids[i]); r.Status {
			case 200:
				won++
			case 409:
			default:
				t.Errorf("claim %d: %d %s", i, r.Status, r.Info)
			}
		}
		if won != 1 {
			t.Errorf("%d claims won, want 1", won)
		}
	})
}

// Each agent has its own unread counts: one agent reading a conversation
// leaves the others' my_unread alone (the shared unread drops for all),
// and a conversation an agent never read counts what came after the
// agents' latest reply.
func TestUnreadPerAgent(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		u := on(t, nodes, 0, user("o1"))
		a1 := on(t, nodes, 1, agent("a1"))
		a2 := on(t, nodes, 2, agent("a2"))
		counts := func(what string, cl *msgotest.Client, unread, mine int64) {
			t.Helper()
			s := sessions(t, cl, nil)["o1"]
			if s.Unread != unread || *s.MyUnread != mine {
				t.Errorf("%s: unread %d, my_unread %d; want %d, %d", what, s.Unread, *s.MyUnread, unread, mine)
			}
		}
		var last model.Message
		for _, m := range []string{"one", "two", "three"} {
			last = send(t, u, "", m)
		}
		counts("a1 before reading", a1, 3, 3)
		counts("a2 before reading", a2, 3, 3)
		call(t, a1, "kefu.chat.read", map[string]any{"openid": "o1", "up_to_id": last.ID}, nil)
		counts("a1 after reading", a1, 0, 0)
		counts("a2 after a1 read", a2, 0, 3)
		if m1, m2 := *sessions(t, a1, nil)["o1"].MyReadID, *sessions(t, a2, nil)["o1"].MyReadID; m1 != last.ID || m2 != 0 {
			t.Errorf("read marks %d, %d; want %d, 0", m1, m2, last.ID)
		}

		send(t, a1, "o1", "looking into it")
		last = send(t, u, "", "thanks")
		counts("a1, one more", a1, 1, 1)
		counts("a2, never read: after the latest reply", a2, 1, 1)
		call(t, a2, "kefu.chat.read", map[string]any{"openid": "o1", "up_to_id": last.ID + 1000}, nil) // past the end: up to the end
		counts("a2 after reading", a2, 0, 0)
		counts("a1 after a2 read", a1, 0, 1)
		send(t, u, "", "hello?")
		counts("a2, a mark past the end does not hide new messages", a2, 1, 1)
		call(t, a2, "kefu.chat.read", map[string]any{"openid": "o1", "up_to_id": 1}, nil) // never back
		counts("a2 after an old read", a2, 1, 1)
	})
}

// kefu.agent.list lists the agents online on every node, each once, with
// how many conversations each holds; kefu.canned.list the configured
// replies.
func TestAgentsAndCanned(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		u := on(t, nodes, 0, user("o1"))
		a1 := on(t, nodes, 1, agent("a1"))
		on(t, nodes, 2, agent("a2"))
		on(t, nodes, 0, agent("a2"))
		send(t, u, "", "hi")
		call(t, a1, "kefu.session.claim", map[string]any{"openid": "o1"}, nil)
		var p struct {
			Agents []struct {
				ID       string `json:"id"`
				Nickname string `json:"nickname"`
				Sessions int64  `json:"sessions"`
			}
			Me struct {
				ID       string `json:"id"`
				Nickname string `json:"nickname"`
				Sessions int64  `json:"sessions"`
			}
		}
		call(t, a1, "kefu.agent.list", nil, &p)
		if got := jsonString(p.Agents); got != `[{"id":"a1","nickname":"客服-a1","sessions":1},{"id":"a2","nickname":"客服-a2","sessions":0}]` {
			t.Errorf("agents %s", got)
		}
		if p.Me.ID != "a1" || p.Me.Nickname != "客服-a1" || p.Me.Sessions != 1 {
			t.Errorf("me %+v", p.Me)
		}
		var c struct{ Replies []string }
		call(t, a1, "kefu.canned.list", nil, &c)
		if !slices.Equal(c.Replies, testCanned) {
			t.Errorf("canned %q, want %q", c.Replies, testCanned)
		}
	})
}
