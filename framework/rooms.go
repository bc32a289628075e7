package framework

import (
	"cmp"
	"slices"
)

// RoomSize is one room's size on this node.
type RoomSize struct {
	Room        string `json:"room"`
	Connections int    `json:"connections"`
	Users       int    `json:"users"` // distinct users (type and id)
}

// LargestRooms returns this node's n largest rooms by connections, largest
// first (ties by name); modules' internal groups are not rooms and are left
// out. It walks every group of the hub, so it is meant for
// an operator's screen, not for a request path.
func (a *App) LargestRooms(n int) []RoomSize {
	var out []RoomSize
	for _, g := range a.hub.GroupSizes() {
		if name, ok := (Group{key: g.Name}).RoomName(); ok {
			out = append(out, RoomSize{Room: name, Connections: g.Members, Users: g.Users})
		}
	}
	slices.SortFunc(out, func(x, y RoomSize) int {
		return cmp.Or(cmp.Compare(y.Connections, x.Connections), cmp.Compare(x.Room, y.Room))
	})
	return out[:min(n, len(out))]
}
