package framework

// Group names a set of connections that pushes, counts and member lists
// address as one, on every node. There are two kinds, and they are two key
// spaces that never meet, whatever their names spell:
//
//   - a room (Room) is a name that outsiders choose: a token's code, the
//     manager's room calls. live.user.join with code "r1" and the manager
//     joining a user to "r1" put connections in the same room.
//   - an internal group (InternalGroup) is one a module keeps for itself,
//     such as the group of all kefu agents. No token code and no room name
//     reaches it.
//
// The zero Group names nothing.
type Group struct{ key string }

// Key prefixes of the two kinds. Every group key starts with exactly one of
// them, so no room name can produce an internal group's key (in the hub, on
// the bus, or in the store), nor the reverse.
const (
	roomPrefix     = "r:"
	internalPrefix = "i:"
)

// Room returns the room called name.
func Room(name string) Group { return Group{key: roomPrefix + name} }

// InternalGroup returns a module's own group called name. Modules prefix
// their names with the module's ("kefu.agents") so that two modules do not
// share a group by accident.
func InternalGroup(name string) Group { return Group{key: internalPrefix + name} }

// RoomName returns the name of a room, and false for an internal group.
func (g Group) RoomName() (string, bool) {
	if len(g.key) >= len(roomPrefix) && g.key[:len(roomPrefix)] == roomPrefix {
		return g.key[len(roomPrefix):], true
	}
	return "", false
}

// String returns the group's kind and name, for logs.
func (g Group) String() string {
	if name, ok := g.RoomName(); ok {
		return "room " + name
	}
	if len(g.key) >= len(internalPrefix) {
		return "group " + g.key[len(internalPrefix):]
	}
	return "no group"
}
