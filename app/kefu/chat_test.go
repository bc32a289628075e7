package kefu_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// A message is stored before the reply, whose id is the stored row's, and
// the kefu.message push (the stored message object) reaches every agent
// connection and every connection of that openid, on every node, the
// sender's own included, and nobody else. Agents receive it without having
// called anything first.
func TestMessageReachesEveryAgentAndEveryDevice(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		phone := on(t, nodes, 0, user("o1"))
		laptop := on(t, nodes, 1, user("o1"))
		a1 := on(t, nodes, 1, agent("a1"))
		a2 := on(t, nodes, 2, agent("a2"))
		a2b := on(t, nodes, 0, agent("a2")) // a second device of a2
		other := on(t, nodes, 2, user("o2"))
		wall := on(t, nodes, 0, framework.Identity{ID: "o1", Type: encrypt.TypeWall, Code: "r"})
		agents := []*msgotest.Client{a1, a2, a2b}
		devices := []*msgotest.Client{phone, laptop}

		// Straight away: no agent has sent anything yet.
		q := send(t, phone, "", "hello, anyone there?")
		want := model.Message{ID: q.ID, OpenID: "o1", Msg: q.Msg, Type: model.TypeUserToAgent, Time: q.Time}
		expectPush(t, "user's message", want, append(agents, devices...)...)
		msgotest.NoPush(t, quiet, "kefu.message", "other user or wall", other, wall)

		r := send(t, a1, "o1", "Hi, how can I help?")
		if r.ID <= q.ID {
			t.Errorf("agent's message id %d after the user's %d", r.ID, q.ID)
		}
		want = model.Message{ID: r.ID, OpenID: "o1", Msg: r.Msg, Type: model.TypeAgentToUser, Time: r.Time}
		expectPush(t, "agent's message", want, append(agents, devices...)...)

		// To a user who is not online: stored, and the agents see it.
		off := send(t, a2b, "o3", "we shipped your order")
		want = model.Message{ID: off.ID, OpenID: "o3", Msg: off.Msg, Type: model.TypeAgentToUser, Time: off.Time}
		expectPush(t, "message to an offline user", want, agents...)
		msgotest.NoPush(t, quiet, "kefu.message", "user not addressed", phone, laptop, other, wall)

		// The push is exactly the wire object.
		send(t, laptop, "", "x")
		raw := lastPushRaw(t, a2)
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			t.Fatal(err)
		}
		var names []string
		var param map[string]any
		json.Unmarshal(keys["param"], &param)
		for k := range param {
			names = append(names, k)
		}
		slices.Sort(names)
		if got := strings.Join(names, ","); got != "id,isread,msg,openid,time,type" {
			t.Errorf("kefu.message param keys %s", got)
		}
		if _, ok := keys["id"]; ok || string(keys["event"]) != `"kefu.message"` || string(keys["status"]) != "200" {
			t.Errorf("kefu.message frame %s: want status 200, the event, no id", raw)
		}
	})
}

// expectPush waits for the next kefu.message on each of cls and checks it
// is want.
func expectPush(t testing.TB, what string, want model.Message, cls ...*msgotest.Client) {
	t.Helper()
	for i, cl := range cls {
		if got := pushed(t, cl); got != want {
			t.Errorf("%s, connection %d: pushed %+v, want %+v", what, i, got, want)
		}
	}
}

// lastPushRaw waits for a kefu.message on cl, removes it and returns the
// frame's payload as sent.
func lastPushRaw(t testing.TB, cl *msgotest.Client) []byte {
	t.Helper()
	deadline := time.Now().Add(msgotest.DefaultTimeout)
	for time.Now().Before(deadline) {
		for _, raw := range cl.Raw() {
			if strings.Contains(string(raw), `"event":"kefu.message"`) {
				pushed(t, cl) // the same frame: the first kefu.message kept
				return raw
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no kefu.message frame")
	return nil
}

// History pages newest first with before_id and limit; a user and an
// agent see the same conversation, and only that one.
func TestHistoryPaging(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		u := on(t, nodes, 0, user("o1"))
		k := on(t, nodes, 1, agent("a1"))
		o2 := on(t, nodes, 2, user("o2"))
		var sent []int64 // o1's conversation, oldest first
		for i := range 45 {
			if i%3 == 2 {
				sent = append(sent, send(t, k, "o1", fmt.Sprint("agent ", i)).ID)
			} else {
				sent = append(sent, send(t, u, "", fmt.Sprint("user ", i)).ID)
			}
			if i%15 == 0 {
				send(t, o2, "", "someone else")
			}
		}
		slices.Reverse(sent) // newest first, as history answers
		for _, cl := range []struct {
			who    string
			c      *msgotest.Client
			params map[string]any
		}{{"user", u, map[string]any{}}, {"agent", k, map[string]any{"openid": "o1"}}} {
			with := func(kv ...any) map[string]any {
				m := maps(cl.params)
				for i := 0; i < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			page := history(t, cl.c, with())
			if !slices.Equal(idsOf(page), sent[:20]) {
				t.Errorf("%s: first page %v, want %v", cl.who, idsOf(page), sent[:20])
			}
			var all []int64
			for before := int64(0); ; {
				params := with("limit", 7)
				if before > 0 {
					params["before_id"] = before
				}
				page := history(t, cl.c, params)
				if len(page) == 0 {
					break
				}
				for _, m := range page {
					if m.OpenID != "o1" || m.Msg == "" || m.Time == 0 || (m.Type != model.TypeAgentToUser) != strings.HasPrefix(m.Msg, "user") {
						t.Fatalf("%s: message %+v", cl.who, m)
					}
				}
				all = append(all, idsOf(page)...)
				before = page[len(page)-1].ID
			}
			if !slices.Equal(all, sent) {
				t.Errorf("%s: paged by 7 through %v, want %v", cl.who, all, sent)
			}
			if got := history(t, cl.c, with("limit", 100)); !slices.Equal(idsOf(got), sent) {
				t.Errorf("%s: limit 100: %v", cl.who, idsOf(got))
			}
			if got := history(t, cl.c, with("limit", 1, "before_id", sent[0])); !slices.Equal(idsOf(got), sent[1:2]) {
				t.Errorf("%s: before the newest: %v, want %v", cl.who, idsOf(got), sent[1:2])
			}
			if got := history(t, cl.c, with("before_id", sent[len(sent)-1])); len(got) != 0 {
				t.Errorf("%s: before the oldest: %v, want []", cl.who, idsOf(got))
			}
		}
		if got := history(t, o2, nil); len(got) != 3 {
			t.Errorf("o2 sees %d messages, want its own 3", len(got))
		}
		if got := history(t, k, map[string]any{"openid": "nobody"}); len(got) != 0 {
			t.Errorf("a conversation that never was: %v", idsOf(got))
		}
	})
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

type unreadSessions struct {
	Sessions []model.SessionUnread `json:"sessions"`
}

// Read marks on both sides: a user marks the agents' messages, an agent
// the user's; unread counts follow, on every node.
func TestReadAndUnread(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		u := on(t, nodes, 0, user("o1"))
		u2nd := on(t, nodes, 1, user("o1"))
		k := on(t, nodes, 2, agent("a1"))
		k2 := on(t, nodes, 1, agent("a2"))
		o2 := on(t, nodes, 0, user("o2"))

		var fromUser, fromAgent []int64
		for i := range 3 {
			fromUser = append(fromUser, send(t, u, "", fmt.Sprint("q", i)).ID)
		}
		for i := range 2 {
			fromAgent = append(fromAgent, send(t, k, "o1", fmt.Sprint("a", i)).ID)
		}
		send(t, o2, "", "me too")

		userUnread := func(cl *msgotest.Client, want int64) {
			t.Helper()
			var p struct{ Unread *int64 }
			call(t, cl, "kefu.chat.unread", nil, &p)
			if p.Unread == nil || *p.Unread != want {
				t.Errorf("user unread %v, want %d", p.Unread, want)
			}
		}
		agentUnread := func(cl *msgotest.Client, want string) {
			t.Helper()
			var p unreadSessions
			call(t, cl, "kefu.chat.unread", nil, &p)
			if got := jsonString(p.Sessions); got != want {
				t.Errorf("agent unread %s, want %s", got, want)
			}
		}
		read := func(cl *msgotest.Client, params map[string]any, want int64) {
			t.Helper()
			var p struct{ Updated *int64 }
			call(t, cl, "kefu.chat.read", params, &p)
			if p.Updated == nil || *p.Updated != want {
				t.Errorf("read %v: updated %v, want %d", params, p.Updated, want)
			}
		}

		userUnread(u, 2)
		agentUnread(k, `[{"openid":"o1","unread":3},{"openid":"o2","unread":1}]`)

		read(k, map[string]any{"openid": "o1", "up_to_id": fromUser[1]}, 2)
		read(k2, map[string]any{"openid": "o1", "up_to_id": fromUser[1]}, 0) // another agent: already read
		agentUnread(k2, `[{"openid":"o1","unread":1},{"openid":"o2","unread":1}]`)
		userUnread(u2nd, 2) // an agent reading does not touch the user's side

		read(u, map[string]any{"up_to_id": fromAgent[0]}, 1)
		userUnread(u2nd, 1)
		read(u2nd, map[string]any{"up_to_id": 1 << 53}, 1)
		userUnread(u, 0)
		agentUnread(k, `[{"openid":"o1","unread":1},{"openid":"o2","unread":1}]`) // the user's own messages stay unread for agents

		read(k, map[string]any{"openid": "o1", "up_to_id": fromUser[2]}, 1)
		read(k, map[string]any{"openid": "o2", "up_to_id": 1 << 53}, 1)
		agentUnread(k, `[]`)

		for _, m := range history(t, u, map[string]any{"limit": 100}) {
			if m.IsRead != 1 {
				t.Errorf("message %d still unread: %+v", m.ID, m)
			}
		}
	})
}

type sessionList struct {
	Sessions []struct {
		OpenID   string `json:"openid"`
		LastMsg  string `json:"last_msg"`
		LastTime int64  `json:"last_time"`
		Unread   int64  `json:"unread"`
	} `json:"sessions"`
}

// The session list puts the conversation with the latest message first,
// whoever wrote it, with its last message and the user's unread count.
func TestSessionListOrder(t *testing.T) {
	t.Parallel()
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		k := on(t, nodes, 0, agent("a1"))
		users := map[string]*msgotest.Client{}
		for i, id := range []string{"o1", "o2", "o3"} {
			users[id] = on(t, nodes, i+1, user(id))
		}
		var empty sessionList
		call(t, k, "kefu.session.list", nil, &empty)
		if empty.Sessions == nil || len(empty.Sessions) != 0 {
			t.Fatalf("no conversations yet: %+v, want []", empty)
		}
		send(t, users["o1"], "", "o1 first")
		send(t, users["o2"], "", "o2 first")
		send(t, users["o1"], "", "o1 second")
		send(t, users["o3"], "", "o3 first")
		last := send(t, k, "o2", "reply to o2")

		list := func(params map[string]any) string {
			t.Helper()
			var p sessionList
			call(t, k, "kefu.session.list", params, &p)
			var rows []string
			for _, s := range p.Sessions {
				rows = append(rows, fmt.Sprintf("%s:%s:%d", s.OpenID, s.LastMsg, s.Unread))
				if s.LastTime == 0 {
					t.Errorf("session %s without last_time", s.OpenID)
				}
			}
			if len(p.Sessions) > 0 && p.Sessions[0].OpenID == "o2" && p.Sessions[0].LastTime != last.Time {
				t.Errorf("o2's last_time %d, want the reply's %d", p.Sessions[0].LastTime, last.Time)
			}
			return strings.Join(rows, " ")
		}
		if got, want := list(nil), "o2:reply to o2:1 o3:o3 first:1 o1:o1 second:2"; got != want {
			t.Errorf("sessions %q, want %q", got, want)
		}
		if got, want := list(map[string]any{"limit": 2}), "o2:reply to o2:1 o3:o3 first:1"; got != want {
			t.Errorf("limit 2: %q, want %q", got, want)
		}
		send(t, users["o1"], "", "o1 third")
		if got, want := list(map[string]any{"limit": 1}), "o1:o1 third:3"; got != want {
			t.Errorf("after o1 wrote again: %q, want %q", got, want)
		}
	})
}

// msg is stored, replied, pushed and returned by history exactly as sent,
// and framed without HTML escaping.
func TestMsgVerbatim(t *testing.T) {
	t.Parallel()
	texts := []string{
		"'); DROP TABLE chat; --",
		`quotes ' " \ backslash %_ ?`,
		"<b>bold</b><script>alert('x')</script>&amp;",
		"emoji 😀🎉👨‍👩‍👧 and 中文，全角标点。",
		"  leading and trailing spaces  ",
		"line\nbreaks\r\nand\ttabs",
		strings.Repeat("😀", model.MaxMsgLen),
		strings.Repeat("客", model.MaxMsgLen),
	}
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, gdb *gorm.DB) {
		u := on(t, nodes, 0, user("o1"))
		k := on(t, nodes, len(nodes)-1, agent("a1"))
		for _, text := range texts {
			for _, from := range []struct {
				cl     *msgotest.Client
				openid string
			}{{u, ""}, {k, "o1"}} {
				sent := send(t, from.cl, from.openid, text)
				for _, to := range []*msgotest.Client{u, k} {
					raw := lastPushRaw(t, to)
					if !strings.Contains(string(raw), jsonNoEscape(text)) {
						t.Errorf("push of %.40q is not framed verbatim: %.200s", text, raw)
					}
				}
				got := history(t, u, map[string]any{"limit": 1})
				if len(got) != 1 || got[0].ID != sent.ID || got[0].Msg != text {
					t.Errorf("history of %.40q: %+v", text, got)
				}
			}
		}
		var n int64
		if err := gdb.Table("chat").Count(&n).Error; err != nil || n != int64(2*len(texts)) {
			t.Errorf("the chat table has %d rows (%v), want %d", n, err, 2*len(texts))
		}
	})
}

// jsonNoEscape is s as a JSON string without HTML escaping, as msgo
// frames it.
func jsonNoEscape(s string) string {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
