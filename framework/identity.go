package framework

import "unique"

// User types of the msgo protocol.
const (
	TypeWechatUser = "wechatUser"
	TypeWall       = "wall"
	TypeKefu       = "kefu"
)

// Identity is who a connection belongs to, taken from its token.
type Identity struct {
	ID       string
	Type     string
	Code     string // room code; may be empty
	Nickname string
}

// Authenticator checks a token offered at the handshake. It runs on the
// handshake path for every connection, so it must be fast and must not keep
// the token.
type Authenticator func(token []byte) (Identity, error)

// identity is the compact form a connection keeps: user type and room code are
// interned, so thousands of connections in one room share one string.
type identity struct {
	id       string
	nickname string
	typ      unique.Handle[string]
	code     unique.Handle[string]
}

func compact(id Identity) identity {
	return identity{
		id:       id.ID,
		nickname: id.Nickname,
		typ:      unique.Make(id.Type),
		code:     unique.Make(id.Code),
	}
}

// userKey names a user cluster-wide: type and id.
func userKey(typ, id string) string { return typ + ":" + id }

// ConnID identifies a connection inside one node. It is never reused while
// the node runs, unlike the OS file descriptor.
type ConnID uint64

// Client is what a handler sees of a connection: its id and identity, never
// the socket.
type Client struct{ c *conn }

// ID returns the connection id (MSwoole's fd).
func (cl Client) ID() ConnID { return cl.c.id }

// UserID returns the token's id.
func (cl Client) UserID() string { return cl.c.ident.id }

// Type returns the token's user type.
func (cl Client) Type() string { return cl.c.ident.typ.Value() }

// Code returns the token's room code.
func (cl Client) Code() string { return cl.c.ident.code.Value() }

// Nickname returns the token's display name.
func (cl Client) Nickname() string { return cl.c.ident.nickname }

// Identity returns the whole identity.
func (cl Client) Identity() Identity {
	return Identity{ID: cl.UserID(), Type: cl.Type(), Code: cl.Code(), Nickname: cl.Nickname()}
}
