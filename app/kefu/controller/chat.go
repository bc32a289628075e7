package controller

import (
	"context"
	"time"

	"msgo/app/kefu/model"
	"msgo/app/kefu/service"
	"msgo/framework"
)

// History limits.
const (
	DefaultHistoryLimit = 20
	MaxHistoryLimit     = 100
)

// Chat is kefu.chat.*: one conversation between a WeChat user and the
// agents, seen from either side. A wechatUser's conversation is its own;
// an agent names one with the openid param.
type Chat struct {
	chat    *service.Chat
	store   *model.Store
	timeout time.Duration
}

// NewChat returns the Chat controller; timeout bounds each request's
// database work (DefaultTimeout when 0).
func NewChat(chat *service.Chat, store *model.Store, timeout time.Duration) *Chat {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Chat{chat: chat, store: store, timeout: timeout}
}

type sendReply struct {
	ID   int64 `json:"id"`
	Time int64 `json:"time"`
}

// Send is kefu.chat.send: msg (1..2000 characters, stored and pushed
// verbatim) from a wechatUser to the agents, or from an agent to openid.
// It is stored before the reply, whose id is the stored row's, and pushed
// as kefu.message to every agent and every connection of openid before
// the reply is written; if it cannot be stored, nothing is pushed. Replies
// to one conversation's messages come in the order sent; an agent writing
// to several users may get its replies in another order (match them by
// id).
func (h *Chat) Send(c *framework.Context) error {
	var p struct {
		OpenID *string `json:"openid"`
		Msg    *string `json:"msg"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	openid, err := conversation(c, p.OpenID)
	if err != nil {
		return err
	}
	msg, err := text("msg", p.Msg, model.MaxMsgLen)
	if err != nil {
		return err
	}
	m := &model.Message{OpenID: openid, Type: model.TypeAgentToUser, Msg: msg}
	if cl := c.Client(); cl.Type() == framework.TypeWechatUser {
		m.Type = model.TypeUserToAgent
		m.From = model.Sender{Nickname: cut(cl.Nickname()), Code: cut(cl.Code())}
	}
	// The reply waits for the message's transaction, shared with other
	// messages (group commit), without holding this worker: the handler
	// returns now and the answer follows on the request's id.
	st, err := c.Stream(c.Method())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(st.Context(), h.timeout)
	h.chat.Submit(ctx, c.App(), m, func(err error) {
		defer st.Close()
		defer cancel()
		switch {
		case st.Context().Err() != nil:
			// The sender left: nobody to answer (the message is stored
			// and pushed if err is nil).
		case err != nil:
			st.Fail(err)
		default:
			st.Reply(framework.StatusOK, okInfo, sendReply{ID: m.ID, Time: m.Time})
		}
	})
	return nil
}

type historyReply struct {
	Messages []model.Message `json:"messages"`
}

// History is kefu.chat.history: up to limit (1..100, default 20) messages
// of the conversation, newest first, with id < before_id when given.
func (h *Chat) History(c *framework.Context) error {
	var p struct {
		OpenID   *string `json:"openid"`
		BeforeID *int64  `json:"before_id"`
		Limit    *int    `json:"limit"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	openid, err := conversation(c, p.OpenID)
	if err != nil {
		return err
	}
	var before int64
	if p.BeforeID != nil {
		if err := messageID("before_id", p.BeforeID); err != nil {
			return err
		}
		before = *p.BeforeID
	}
	n, err := limit(p.Limit, DefaultHistoryLimit, MaxHistoryLimit)
	if err != nil {
		return err
	}
	ctx, cancel := dbContext(c, h.timeout)
	defer cancel()
	msgs, err := h.store.History(ctx, openid, before, n)
	if err != nil {
		return err
	}
	return c.Success(okInfo, historyReply{Messages: msgs})
}

type readReply struct {
	Updated int64 `json:"updated"`
}

// Read is kefu.chat.read: the other side's messages of the conversation
// with id <= up_to_id are marked read; updated counts those that were not.
// A wechatUser reads the agents' messages, an agent the user's; an agent's
// own read mark moves too (its my_unread in kefu.session.list).
func (h *Chat) Read(c *framework.Context) error {
	var p struct {
		OpenID *string `json:"openid"`
		UpToID *int64  `json:"up_to_id"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	openid, err := conversation(c, p.OpenID)
	if err != nil {
		return err
	}
	if p.UpToID == nil {
		return framework.Errorf(framework.StatusBadRequest, "param up_to_id is required")
	}
	if err := messageID("up_to_id", p.UpToID); err != nil {
		return err
	}
	ctx, cancel := dbContext(c, h.timeout)
	defer cancel()
	if c.Client().Type() == framework.TypeWechatUser {
		n, err := h.store.MarkRead(ctx, openid, model.TypeAgentToUser, *p.UpToID)
		if err != nil {
			return err
		}
		return c.Success(okInfo, readReply{Updated: n})
	}
	n, err := h.store.MarkRead(ctx, openid, model.TypeUserToAgent, *p.UpToID)
	if err != nil {
		return err
	}
	// The agent's own mark, for its my_unread; an agent whose id is too
	// long to be stored has none and sees the shared count.
	if me, err := agentID(c); err == nil {
		if err := h.store.MarkReadBy(ctx, me, openid, *p.UpToID); err != nil {
			return err
		}
	}
	return c.Success(okInfo, readReply{Updated: n})
}

type userUnread struct {
	Unread int64 `json:"unread"`
}

type agentUnread struct {
	Sessions []model.SessionUnread `json:"sessions"`
}

// Unread is kefu.chat.unread. A wechatUser gets how many agent messages it
// has not read; an agent gets, for every user with messages no agent has
// read, how many, ordered by openid.
func (h *Chat) Unread(c *framework.Context) error {
	ctx, cancel := dbContext(c, h.timeout)
	defer cancel()
	if c.Client().Type() != framework.TypeWechatUser {
		sessions, err := h.store.UnreadSessions(ctx)
		if err != nil {
			return err
		}
		return c.Success(okInfo, agentUnread{Sessions: sessions})
	}
	var p struct {
		OpenID *string `json:"openid"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	openid, err := conversation(c, p.OpenID)
	if err != nil {
		return err
	}
	n, err := h.store.Unread(ctx, openid, model.TypeAgentToUser)
	if err != nil {
		return err
	}
	return c.Success(okInfo, userUnread{Unread: n})
}
