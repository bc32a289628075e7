package service

import (
	"context"

	"msgo/app/kefu/model"
	"msgo/framework"
)

// SessionEvent is the push that tells agents a conversation changed hands.
const SessionEvent = "kefu.session"

// What happened to a conversation, in a kefu.session push.
const (
	ActionClaim    = "claim"    // an agent took an unassigned conversation
	ActionTransfer = "transfer" // it was given to an agent
	ActionRelease  = "release"  // its agent gave it back: unassigned
)

// AgentRef names an agent in a push.
type AgentRef struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
}

// Assignment is the param of a kefu.session push: the action, the agent
// who did it and the conversation as it is now (without my_unread and
// my_read_id, which differ from agent to agent).
type Assignment struct {
	Action  string        `json:"action"`
	By      AgentRef      `json:"by"`
	Session model.Session `json:"session"`
}

// Announce pushes a as kefu.session to every agent connection, on every
// node. A push that fails is logged: the change is stored, and agents see
// it in their next kefu.session.list.
func (s *Chat) Announce(ctx context.Context, app *framework.App, a Assignment) {
	a.Session.MyUnread, a.Session.MyReadID = nil, nil
	f, err := framework.Push(SessionEvent, a)
	if err == nil {
		err = app.SendToGroup(ctx, AgentsGroup, f)
	}
	if err != nil {
		s.log.Warn("kefu: session push to agents failed; the change is stored", "openid", a.Session.OpenID, "err", err)
	}
}
