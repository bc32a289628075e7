package manager

import (
	"net/http"
	"slices"
	"strconv"

	"msgo/framework"
)

// Room calls (a room is the namespace of the live module's token code):
// a user's connections on every node join or leave one, and who is in it.

// joined is the answer of /api/room/join.
type joined struct {
	Joined int `json:"joined"`
}

// left is the answer of /api/room/leave.
type left struct {
	Left int `json:"left"`
}

// roomUsers is the answer of /api/room/users.
type roomUsers struct {
	Users []roomUser `json:"users"`
	Count int        `json:"count"`
}

type roomUser struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Nickname string `json:"nickname"`
}

// roomCount is the answer of /api/room/count.
type roomCount struct {
	Connections int `json:"connections"`
	Users       int `json:"users"`
}

// userRooms is the answer of /api/user/rooms.
type userRooms struct {
	Rooms []string `json:"rooms"`
}

// Bounds of /api/room/users' limit.
const (
	roomUsersMin     = 1
	roomUsersDefault = 100
	roomUsersMax     = 1000
)

// only fails on the first key the call does not take, naming it.
func (in *form) only(keys ...string) {
	var names []string
	for k := range in.f {
		if !slices.Contains(keys, k) {
			names = append(names, k)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		in.fail(names[0], "unknown key")
	}
}

// POST /api/room/join {id, type?, room} and POST /api/room/leave {id,
// type?, room}: every connection of the user, on every node, joins or leaves.
func (m *Manager) roomMove(join bool) endpoint {
	return func(r *http.Request) (any, error) {
		in := readBody(r)
		in.only("id", "type", "room")
		id, typ, room := in.id("id", true), in.userType("type"), in.id("room", true)
		if in.err != nil {
			return nil, in.err
		}
		if join {
			n, err := m.app.JoinUser(r.Context(), typ, id, framework.Room(room))
			return joined{Joined: n}, err
		}
		n, err := m.app.LeaveUser(r.Context(), typ, id, framework.Room(room))
		return left{Left: n}, err
	}
}

// GET /api/room/users?room=&limit=
func (m *Manager) roomUsers(r *http.Request) (any, error) {
	in := readQuery(r)
	in.only("room", "limit")
	room := in.id("room", true)
	limit := roomUsersDefault
	if s := in.str("limit", false); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < roomUsersMin || n > roomUsersMax {
			in.fail("limit", "must be an integer from 1 to %d, got %q", roomUsersMax, s)
		}
		limit = n
	}
	if in.err != nil {
		return nil, in.err
	}
	g := framework.Room(room)
	members, err := m.app.GroupMembers(r.Context(), g, limit)
	if err != nil {
		return nil, err
	}
	count, err := m.app.GroupCount(r.Context(), g)
	if err != nil {
		return nil, err
	}
	out := roomUsers{Users: make([]roomUser, len(members)), Count: count}
	for i, u := range members {
		out.Users[i] = roomUser{ID: u.ID, Type: u.Type, Nickname: u.Nickname}
	}
	return out, nil
}

// GET /api/room/count?room=
func (m *Manager) roomCount(r *http.Request) (any, error) {
	in := readQuery(r)
	in.only("room")
	room := in.id("room", true)
	if in.err != nil {
		return nil, in.err
	}
	g := framework.Room(room)
	conns, err := m.app.GroupConnections(r.Context(), g)
	if err != nil {
		return nil, err
	}
	users, err := m.app.GroupCount(r.Context(), g)
	if err != nil {
		return nil, err
	}
	return roomCount{Connections: conns, Users: users}, nil
}

// GET /api/user/rooms?id=&type=
func (m *Manager) userRooms(r *http.Request) (any, error) {
	in := readQuery(r)
	in.only("id", "type")
	id, typ := in.id("id", true), in.userType("type")
	if in.err != nil {
		return nil, in.err
	}
	rooms, err := m.app.UserRooms(r.Context(), typ, id)
	if err != nil {
		return nil, err
	}
	return userRooms{Rooms: rooms}, nil
}
