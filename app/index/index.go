package index

import (
	"msgo/framework"
)

// Register adds the index routes.
func Register(r *framework.Router) {
	r.Handle("index.index.index", Echo)
	r.Handle("index.index.whoami", Whoami)
}

// Echo answers with the request's parameters (everything but method and id),
// as MSwoole's sample controller did. They pass through as sent, never
// decoded.
func Echo(c *framework.Context) error {
	return c.Success("执行完成", c.RawParams())
}

type whoami struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Code     string `json:"code"`
	Nickname string `json:"nickname"`
}

// Whoami answers with the identity from the connection's token.
func Whoami(c *framework.Context) error {
	cl := c.Client()
	return c.Success("ok", whoami{ID: cl.UserID(), Type: cl.Type(), Code: cl.Code(), Nickname: cl.Nickname()})
}
