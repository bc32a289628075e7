package framework

import (
	"unique"

	"msgo/framework/transport"
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

// identity is the compact form a connection keeps. The user key ("type:id")
// is built once and is the only copy of the id (UserID slices it), so the
// hub and the store share it; user type and room code are interned as one
// pair, so thousands of connections in one room share it.
type identity struct {
	key      string
	nickname string
	kind     unique.Handle[userKind]
}

// userKind is what many connections have in common: user type and room code.
type userKind struct {
	typ  string
	code string
}

func compact(id Identity) identity {
	return identity{
		key:      userKey(id.Type, id.ID),
		nickname: id.Nickname,
		kind:     unique.Make(userKind{typ: id.Type, code: id.Code}),
	}
}

func (i *identity) typ() string  { return i.kind.Value().typ }
func (i *identity) code() string { return i.kind.Value().code }
func (i *identity) id() string   { return i.key[len(i.typ())+1:] }

// userKey names a user cluster-wide: type and id.
func userKey(typ, id string) string { return typ + ":" + id }

// ConnID identifies a connection inside one node. It is never reused while
// the node runs, unlike the OS file descriptor.
type ConnID = transport.ConnID

// Client is what a handler sees of a connection: its id and identity, never
// the socket.
type Client struct{ c *conn }

// ID returns the connection id (MSwoole's fd).
func (cl Client) ID() ConnID { return cl.c.ID() }

// UserID returns the token's id.
func (cl Client) UserID() string { return cl.c.Session().ident.id() }

// Type returns the token's user type.
func (cl Client) Type() string { return cl.c.Session().ident.typ() }

// Code returns the token's room code.
func (cl Client) Code() string { return cl.c.Session().ident.code() }

// Nickname returns the token's display name.
func (cl Client) Nickname() string { return cl.c.Session().ident.nickname }

// Identity returns the whole identity.
func (cl Client) Identity() Identity {
	return Identity{ID: cl.UserID(), Type: cl.Type(), Code: cl.Code(), Nickname: cl.Nickname()}
}
