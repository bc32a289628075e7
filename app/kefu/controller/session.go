package controller

import (
	"time"

	"msgo/app/kefu/model"
	"msgo/framework"
)

// Session list limits.
const (
	DefaultSessionLimit = 50
	MaxSessionLimit     = 100
)

// Session is kefu.session.*: the agents' view of every conversation.
type Session struct {
	store   *model.Store
	timeout time.Duration
}

// NewSession returns the Session controller; timeout bounds each request's
// database work (DefaultTimeout when 0).
func NewSession(store *model.Store, timeout time.Duration) *Session {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Session{store: store, timeout: timeout}
}

type listReply struct {
	Sessions []model.Session `json:"sessions"`
}

// List is kefu.session.list: up to limit (1..100, default 50)
// conversations, the one with the latest message first, each with its
// last message and how many of the user's messages no agent has read.
func (h *Session) List(c *framework.Context) error {
	var p struct {
		Limit *int `json:"limit"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	n, err := limit(p.Limit, DefaultSessionLimit, MaxSessionLimit)
	if err != nil {
		return err
	}
	ctx, cancel := dbContext(c, h.timeout)
	defer cancel()
	sessions, err := h.store.Sessions(ctx, n)
	if err != nil {
		return err
	}
	return c.Success(okInfo, listReply{Sessions: sessions})
}
