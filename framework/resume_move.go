package framework

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"msgo/framework/transport"
)

// A resume that lands on a node without the session asks the other nodes
// over the bus; the node that holds it withdraws it (closing its socket
// with 1008 if it was still open) and answers with its state, which the new
// connection takes on: rooms, close keys, close controllers, the frames the
// client has not received and the count of its messages read. A node that
// died answers nothing: the resume is resumed:false.

// askTimeout bounds how long a resume waits for the node holding the session:
// long enough for a busy node (a thousand clients resuming at once) to
// answer; it is what a resume of a dead node's session costs.
const askTimeout = 3 * time.Second

// moveQuestion is what the resuming node asks.
type moveQuestion struct {
	User string `json:"user"`
	N    uint64 `json:"n"`
}

// moveAnswer is the holder's answer: Refused "user" (another user's
// session, which stays) or "gone", or the session's state.
type moveAnswer struct {
	Refused     string   `json:"refused,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	CloseKeys   []string `json:"close_keys,omitempty"`
	Controllers []string `json:"controllers,omitempty"`
	Next        uint64   `json:"next"`
	Received    uint64   `json:"received"`
	Kept        [][]byte `json:"kept,omitempty"`
}

func sessionTarget(id string) string { return "session:" + id }

// resumeRemote resumes on c a session held by another node, if one does.
func (s *Server) resumeRemote(c *conn, session string, n uint64, id json.RawMessage) {
	q, _ := json.Marshal(moveQuestion{User: userOf(c), N: n})
	ctx, cancel := context.WithTimeout(s.ctx, askTimeout+time.Second)
	defer cancel()
	raw, err := s.app.bus.Ask(ctx, sessionTarget(session), q, askTimeout)
	var a moveAnswer
	if err != nil || json.Unmarshal(raw, &a) != nil || a.Refused == "gone" {
		s.metrics.sessionRefused("unknown")
		s.answerResume(c, id, resumeAnswer{})
		return
	}
	if a.Refused != "" {
		s.metrics.sessionRefused("user")
		s.reply(c, StatusForbidden, "session belongs to another user", methodSessionResume, id)
		return
	}
	if !editHooks(c, func(h *hooks) { h.resume = &resumable{id: session} }) {
		return
	}
	s.sessions.put(session, c)
	received := a.Received
	rp := transport.Replay{Next: a.Next, Received: a.Received, Kept: a.Kept}
	// Frames for c wait until its rooms are back, behind the ones it missed.
	if c.HoldReplay(rp, s.cfg.ResumeBufferBytes) != nil {
		return
	}
	defer c.ReleaseReplay(resumeFrame(id, resumeAnswer{Resumed: true, Received: &received}))
	s.metrics.sessionResumed()
	app, cid := s.app, c.ID()
	for _, g := range a.Groups {
		app.cluster.Failed("group", app.JoinGroup(ctx, cid, Group{key: g}))
	}
	for _, k := range a.CloseKeys {
		app.AddCloseKey(ctx, cid, k)
	}
	for _, name := range a.Controllers {
		app.AddCloseController(cid, name)
	}
}

// answerSession answers another node's resume of a session held here: it
// withdraws the session and answers its state, or refuses another user.
func (s *Server) answerSession(target string, question []byte) ([]byte, bool) {
	sid, ok := strings.CutPrefix(target, "session:")
	if !ok {
		return nil, false
	}
	c := s.sessions.get(sid)
	var q moveQuestion
	if c == nil || json.Unmarshal(question, &q) != nil {
		return nil, false
	}
	var a moveAnswer
	if userOf(c) != q.User {
		a.Refused = "user"
		out, _ := json.Marshal(a)
		return out, true
	}
	rp, ok := s.tr.Withdraw(c, q.N, askTimeout*2/3)
	if !ok {
		a.Refused = "gone"
		out, _ := json.Marshal(a)
		return out, true
	}
	var h *hooks
	c.Edit(func(ss *session, _ bool) { h, ss.hooks = ss.hooks, nil })
	if h != nil {
		if h.resume != nil {
			s.forgetSession(h.resume)
		}
		a.Groups = collect(h.list, hookGroup)
		a.CloseKeys = collect(h.list, hookCloseKey)
		a.Controllers = collect(h.list, hookController)
	}
	s.app.undo(c, h, false)
	a.Next, a.Received, a.Kept = rp.Next, rp.Received, rp.Kept
	out, _ := json.Marshal(a)
	return out, true
}
