package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"msgo/framework/cluster"
	"msgo/framework/transport"
)

// A resume that lands on a node without the session moves the session here
// over the bus, in two steps, so that nothing pushed meanwhile is lost:
//
//  1. This node asks; the node holding the session closes its old socket
//     (1008) if still open and answers the session's state (id, rooms,
//     close keys, close controllers, numbering) but keeps it in its rooms,
//     keeping what is pushed to it.
//  2. This node hosts the session under the same connection id (ids are
//     unique in the cluster), joins its rooms, holding what arrives, points
//     the cluster's route for its address here, then confirms; the old node
//     gives the session up with every frame the client has not received and
//     forgets it without a close hook. The frames both nodes got are told
//     apart by the old node's numbering and dropped once; the rest follow,
//     numbered on.
//
// A node that died answers nothing: the resume is resumed:false. A move
// that fails after the first step leaves the session with the old node.

// askTimeout bounds each step's wait for the node holding the session: long
// enough for a busy node (a thousand clients resuming at once) to answer;
// it is what a resume of a dead node's session costs.
const askTimeout = 3 * time.Second

// moveGrace is how long the old node keeps a session in its rooms after the
// new node confirmed. A push to a room goes to its nodes one publish after
// another: one the new node got before it joined the room may reach the
// old node only after the confirm, and must still be there to be kept.
const moveGrace = 100 * time.Millisecond

// moveQuestion is what the resuming node asks; Confirm is the second step.
type moveQuestion struct {
	User    string `json:"user"`
	N       uint64 `json:"n"`
	Confirm bool   `json:"confirm,omitempty"`
}

// moveAnswer is the holder's answer: Refused "user" (another user's
// session, which stays) or "gone", or the session's state. Kept comes with
// the second step only.
type moveAnswer struct {
	Refused     string   `json:"refused,omitempty"`
	Node        string   `json:"node,omitempty"`
	Conn        uint64   `json:"conn,omitempty"`
	Home        string   `json:"home,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	CloseKeys   []string `json:"close_keys,omitempty"`
	Controllers []string `json:"controllers,omitempty"`
	Next        uint64   `json:"next"`
	Received    uint64   `json:"received"`
	Kept        [][]byte `json:"kept,omitempty"`
}

func sessionTarget(id string) string { return "session:" + id }

// resumeRemote resumes on c, paused, a session held by another node, if
// one does, and lets c go on.
func (s *Server) resumeRemote(c *conn, session string, n uint64, id json.RawMessage) {
	ctx, cancel := context.WithTimeout(s.ctx, 2*askTimeout+time.Second)
	defer cancel()
	var then func()
	defer func() { c.Resume(then) }()
	q := moveQuestion{User: userOf(c), N: n}
	a, ok := s.askMove(ctx, c, session, q, id)
	if !ok {
		return
	}
	d, err := s.hostMoved(ctx, c, session, a)
	if err != nil {
		// The session stays where it is, to expire there.
		s.log.Warn("cannot host a moving session", "err", err)
		s.metrics.sessionRefused("gone")
		s.answerResume(c, id, resumeAnswer{})
		return
	}
	q.Confirm = true
	fin, ok := s.askMove(ctx, c, session, q, id)
	if !ok {
		s.unhost(d, a)
		return
	}
	// Rooms the session joined between the two steps (a request in flight).
	app, cid := s.app, d.ID()
	for _, g := range fin.Groups {
		if !app.InGroup(cid, Group{key: g}) {
			app.cluster.Failed("group", app.enter(ctx, d, g))
		}
	}
	if !d.Settle(transport.Replay{Next: fin.Next, Received: fin.Received, Kept: fin.Kept}, a.Next) {
		s.metrics.sessionRefused("gone")
		s.answerResume(c, id, resumeAnswer{})
		return
	}
	s.sessions.put(session, d)
	then = func() { s.adoptSession(c, d, n, id) }
}

// askMove asks the node holding session one step of a move and answers c
// when it does not go on: resumed:false when no node answered or the
// session is gone, 403 for another user's.
func (s *Server) askMove(ctx context.Context, c *conn, session string, q moveQuestion, id json.RawMessage) (moveAnswer, bool) {
	raw, _ := json.Marshal(q)
	out, err := s.app.bus.Ask(ctx, sessionTarget(session), raw, askTimeout)
	var a moveAnswer
	switch {
	case err != nil || json.Unmarshal(out, &a) != nil || a.Refused == "gone":
		s.metrics.sessionRefused("unknown")
		s.answerResume(c, id, resumeAnswer{})
	case a.Refused != "":
		s.metrics.sessionRefused("user")
		s.reply(c, StatusForbidden, "session belongs to another user", methodSessionResume, id)
	default:
		return a, true
	}
	return a, false
}

// hostMoved registers the session of a on this node, detached, under its
// connection id, in its rooms, with its close keys and close controllers,
// and points its route here.
func (s *Server) hostMoved(ctx context.Context, c *conn, sid string, a moveAnswer) (*conn, error) {
	app := s.app
	if a.Conn>>32 == app.space {
		return nil, fmt.Errorf("connection %d is from this node's id space", a.Conn)
	}
	var list hookList
	for _, k := range a.CloseKeys {
		list = list.with(hookCloseKey, k)
	}
	for _, name := range a.Controllers {
		list = list.with(hookController, name)
	}
	r := &resumable{id: sid, home: a.Home, detached: true}
	d, err := s.tr.Host(ConnID(a.Conn), session{ident: c.Session().ident, hooks: &hooks{list: list, resume: r}}, s.cfg.ResumeBufferBytes)
	if err != nil {
		return nil, err
	}
	s.sessions.detached.Add(1)
	d.Edit(func(ss *session, _ bool) { ss.hooks.resume.expiry = time.AfterFunc(s.cfg.ResumeWindow, d.Expire) })
	app.connected(d)
	for _, g := range a.Groups {
		app.cluster.Failed("group", app.enter(ctx, d, g))
	}
	addr := Addr{a.Home, d.ID()}.String()
	for _, k := range a.CloseKeys {
		app.cluster.Failed("close key", app.closeKeys.AddCloseKey(ctx, k, addr))
	}
	if err := app.routes.SetRoute(ctx, addr, app.node); err != nil {
		app.cluster.Failed("route", err)
	}
	return d, nil
}

// unhost calls off a move whose second step failed: d goes without a close
// hook, and the route points back where the session was.
func (s *Server) unhost(d *conn, a moveAnswer) {
	var h *hooks
	d.Edit(func(ss *session, _ bool) { h, ss.hooks = ss.hooks, nil })
	if h != nil && h.resume != nil {
		s.forgetSession(h.resume)
	}
	s.tr.Unhost(d)
	s.app.undo(d, h, false)
	if a.Home != a.Node { // it had moved before: its route goes back
		ctx, cancel := context.WithTimeout(context.Background(), cluster.StoreOp)
		defer cancel()
		s.app.cluster.Failed("route", s.app.routes.SetRoute(ctx, Addr{a.Home, d.ID()}.String(), a.Node))
	}
}

// answerSession answers another node's move of a session held here: the
// first step hands the session over and answers its state, the second
// gives it up; another user's is refused.
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
	a := moveAnswer{Node: s.cfg.NodeID, Conn: uint64(c.ID())}
	if userOf(c) != q.User {
		a.Refused = "user"
		out, _ := json.Marshal(a)
		return out, true
	}
	var rp transport.Replay
	var h *hooks
	if q.Confirm {
		time.Sleep(moveGrace)
		rp, ok = s.tr.Withdraw(c, q.N, askTimeout*2/3)
		if ok {
			c.Edit(func(ss *session, _ bool) { h, ss.hooks = ss.hooks, nil })
		}
	} else {
		rp, ok = s.tr.Hand(c, q.N, askTimeout*2/3)
		if ok {
			c.Edit(func(ss *session, _ bool) { h = ss.hooks })
		}
	}
	if !ok {
		a.Refused = "gone"
		out, _ := json.Marshal(a)
		return out, true
	}
	a.Home = homeOf(h, s.cfg.NodeID)
	if h != nil {
		a.Groups = collect(h.list, hookGroup)
		a.CloseKeys = collect(h.list, hookCloseKey)
		a.Controllers = collect(h.list, hookController)
	}
	if q.Confirm {
		if h != nil && h.resume != nil {
			s.forgetSession(h.resume)
		}
		s.app.undo(c, h, false)
	}
	a.Next, a.Received, a.Kept = rp.Next, rp.Received, rp.Kept
	out, _ := json.Marshal(a)
	return out, true
}
