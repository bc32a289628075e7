package controller

import (
	"context"
	"time"
	"unicode/utf8"

	"msgo/app/kefu/model"
	"msgo/framework"
)

// okInfo is the info of every successful kefu reply.
const okInfo = "success"

// DefaultTimeout bounds one request's database work when the module is
// given none: a database that does not answer in time counts as
// unavailable (503) instead of holding the connection's worker.
const DefaultTimeout = 5 * time.Second

// dbContext is the context of a request's database work.
func dbContext(c *framework.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Context(), timeout)
}

// conversation returns the openid whose conversation a request is about.
// A wechatUser's is its own: the token's id; an openid param naming
// someone else is 403. An agent names it with the openid param: required,
// 1 to model.MaxOpenIDLen characters. Route guards keep other user types
// out before this runs.
func conversation(c *framework.Context, openid *string) (string, error) {
	cl := c.Client()
	if cl.Type() == framework.TypeWechatUser {
		own := cl.UserID()
		if openid != nil && *openid != own {
			return "", framework.Errorf(framework.StatusForbidden, "a wechatUser may only use its own conversation")
		}
		if n := utf8.RuneCountInString(own); n < 1 || n > model.MaxOpenIDLen {
			return "", framework.Errorf(framework.StatusForbidden, "a token id of %d characters cannot have a conversation (1 to %d)", n, model.MaxOpenIDLen)
		}
		return own, nil
	}
	if openid == nil || *openid == "" {
		return "", framework.Errorf(framework.StatusBadRequest, "param openid is required")
	}
	if n := utf8.RuneCountInString(*openid); n > model.MaxOpenIDLen {
		return "", framework.Errorf(framework.StatusBadRequest, "param openid must be 1 to %d characters, got %d", model.MaxOpenIDLen, n)
	}
	return *openid, nil
}

// text checks a required text param of 1 to max characters (code points).
func text(name string, v *string, max int) (string, error) {
	if v == nil {
		return "", framework.Errorf(framework.StatusBadRequest, "param %s is required", name)
	}
	if n := utf8.RuneCountInString(*v); n < 1 || n > max {
		return "", framework.Errorf(framework.StatusBadRequest, "param %s must be 1 to %d characters, got %d", name, max, n)
	}
	return *v, nil
}

// limit checks a limit param: absent (or null) is def, otherwise it must
// be 1 to max; it is never clamped.
func limit(v *int, def, max int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < 1 || *v > max {
		return 0, framework.Errorf(framework.StatusBadRequest, "param limit must be between 1 and %d", max)
	}
	return *v, nil
}

// messageID checks a message id param: a positive integer.
func messageID(name string, v *int64) error {
	if *v < 1 {
		return framework.Errorf(framework.StatusBadRequest, "param %s must be a message id (1 or more)", name)
	}
	return nil
}

// agentID returns the calling agent's id, which names it in chat_session
// and chat_read: 1 to model.MaxOpenIDLen characters, else 403.
func agentID(c *framework.Context) (string, error) {
	id := c.Client().UserID()
	if n := utf8.RuneCountInString(id); n < 1 || n > model.MaxOpenIDLen {
		return "", framework.Errorf(framework.StatusForbidden, "an agent id of %d characters cannot hold conversations (1 to %d)", n, model.MaxOpenIDLen)
	}
	return id, nil
}

// cut shortens a token's nickname or code to the width of its column.
func cut(s string) string {
	n := 0
	for i := range s {
		if n == model.MaxOpenIDLen {
			return s[:i]
		}
		n++
	}
	return s
}
