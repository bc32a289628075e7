package controller

import (
	"context"
	"errors"
	"time"

	"msgo/app/kefu/model"
	"msgo/app/kefu/service"
	"msgo/framework"
)

// Session list limits.
const (
	DefaultSessionLimit = 50
	MaxSessionLimit     = 100
)

// statusConflict answers a claim or transfer of a conversation that
// another agent holds.
const statusConflict = 409

// Session is kefu.session.*: the agents' view of every conversation, and
// who of them is looking after which.
type Session struct {
	store   *model.Store
	chat    *service.Chat
	timeout time.Duration
}

// NewSession returns the Session controller, which tells agents of
// assignments through chat; timeout bounds each request's database work
// (DefaultTimeout when 0).
func NewSession(store *model.Store, chat *service.Chat, timeout time.Duration) *Session {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Session{store: store, chat: chat, timeout: timeout}
}

type listReply struct {
	Sessions []model.Session `json:"sessions"`
}

// List is kefu.session.list: up to limit (1..100, default 50)
// conversations, the one with the latest message first, each with its
// last message, how many of the user's messages no agent has read
// (unread) and the asking agent has not read (my_unread), the user's
// nickname and room code, and the agent it is assigned to. owner
// ("mine", "unassigned", "others"; absent: all) narrows the list.
func (h *Session) List(c *framework.Context) error {
	var p struct {
		Limit *int    `json:"limit"`
		Owner *string `json:"owner"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	n, err := limit(p.Limit, DefaultSessionLimit, MaxSessionLimit)
	if err != nil {
		return err
	}
	owner := model.OwnerAny
	if p.Owner != nil {
		switch o := model.Owner(*p.Owner); o {
		case model.OwnerMine, model.OwnerUnassigned, model.OwnerOthers:
			owner = o
		default:
			return framework.Errorf(framework.StatusBadRequest, "param owner must be mine, unassigned or others, got %q", *p.Owner)
		}
	}
	ctx, cancel := dbContext(c, h.timeout)
	defer cancel()
	sessions, err := h.store.AgentSessions(ctx, c.Client().UserID(), owner, n)
	if err != nil {
		return err
	}
	return c.Success(okInfo, listReply{Sessions: sessions})
}

type sessionReply struct {
	Session model.Session `json:"session"`
}

// Claim is kefu.session.claim: the calling agent takes the unassigned
// conversation with openid. Claiming one's own again is a no-op; one
// another agent holds is 409, one that does not exist 404. Every agent
// gets a kefu.session push.
func (h *Session) Claim(c *framework.Context) error {
	var p conversationParam
	openid, me, err := p.bind(c, &p)
	if err != nil {
		return err
	}
	return h.assign(c, service.ActionClaim, openid, "", me, cut(c.Client().Nickname()))
}

// Transfer is kefu.session.transfer: the conversation with openid goes to
// the agent to, who must be online. The caller must hold it, or it must be
// unassigned (a lead handing out conversations); one another agent holds
// is 409. An agent who is not online is 404.
func (h *Session) Transfer(c *framework.Context) error {
	var p struct {
		conversationParam
		To *string `json:"to"`
	}
	openid, me, err := p.bind(c, &p)
	if err != nil {
		return err
	}
	to, err := text("to", p.To, model.MaxOpenIDLen)
	if err != nil {
		return err
	}
	ctx, cancel := dbContext(c, h.timeout)
	defer cancel()
	agents, err := c.App().GroupMembers(ctx, service.AgentsGroup, 0)
	if err != nil {
		return err
	}
	var name string
	found := false
	for _, a := range agents {
		if a.Type == framework.TypeKefu && a.ID == to {
			name, found = cut(a.Nickname), true
		}
	}
	if !found {
		return framework.Errorf(framework.StatusNotFound, "no agent %q is online", to)
	}
	held, err := h.store.Session(ctx, openid)
	if err != nil {
		return h.fail(err)
	}
	from := held.AgentID
	if from != "" && from != me && from != to {
		return h.fail(&model.HeldError{AgentID: held.AgentID, AgentName: held.AgentName})
	}
	return h.assign(c, service.ActionTransfer, openid, from, to, name)
}

// Release is kefu.session.release: the calling agent gives the
// conversation with openid back to the unassigned ones. Releasing an
// unassigned one is a no-op; one another agent holds is 409.
func (h *Session) Release(c *framework.Context) error {
	var p conversationParam
	openid, me, err := p.bind(c, &p)
	if err != nil {
		return err
	}
	return h.assign(c, service.ActionRelease, openid, me, "", "")
}

// conversationParam is the param of the methods that act on one
// conversation; their params embed it.
type conversationParam struct {
	OpenID *string `json:"openid"`
}

// bind binds the request's params into all (which embeds p) and returns
// the conversation and the calling agent.
func (p *conversationParam) bind(c *framework.Context, all any) (conv, me string, err error) {
	if err := c.Bind(all); err != nil {
		return "", "", err
	}
	if conv, err = conversation(c, p.OpenID); err != nil {
		return "", "", err
	}
	if me, err = agentID(c); err != nil {
		return "", "", err
	}
	return conv, me, nil
}

// assign moves openid's conversation from one agent to another (""
// unassigned), answers with it and tells every agent.
func (h *Session) assign(c *framework.Context, action, openid, from, to, toName string) error {
	ctx, cancel := dbContext(c, h.timeout)
	defer cancel()
	ses, err := h.store.Assign(ctx, openid, from, to, toName)
	if err != nil {
		return h.fail(err)
	}
	cl := c.Client()
	ev := service.Assignment{Action: action, By: service.AgentRef{ID: cl.UserID(), Nickname: cl.Nickname()}, Session: ses}
	// The push follows the change even when the caller is gone; the
	// reply tells the caller, whose other devices get the push too.
	h.chat.Announce(context.WithoutCancel(ctx), c.App(), ev)
	return c.Success(okInfo, sessionReply{Session: ses})
}

// fail turns the store's refusals into their statuses.
func (h *Session) fail(err error) error {
	var held *model.HeldError
	switch {
	case errors.Is(err, model.ErrNoSession):
		return framework.Errorf(framework.StatusNotFound, "no conversation with this openid")
	case errors.As(err, &held):
		return framework.Errorf(statusConflict, "the conversation is assigned to %s (%s)", held.AgentName, held.AgentID)
	}
	return err
}
