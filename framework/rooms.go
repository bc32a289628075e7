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
// out. It walks every group under its shard's read lock, so it is meant for
// an operator's screen, not for a request path.
func (a *App) LargestRooms(n int) []RoomSize {
	var out []RoomSize
	var keys []string
	h := a.srv.hub
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for key, gr := range sh.groups {
			name, ok := Group{key: key}.RoomName()
			if !ok {
				continue
			}
			users := len(gr.users)
			if gr.users == nil { // a small group keeps no per-user index
				keys = keys[:0]
				for _, m := range gr.members {
					keys = append(keys, m.ident.key)
				}
				slices.Sort(keys)
				users = len(slices.Compact(keys))
			}
			out = append(out, RoomSize{Room: name, Connections: len(gr.members), Users: users})
		}
		sh.mu.RUnlock()
	}
	slices.SortFunc(out, func(x, y RoomSize) int {
		return cmp.Or(cmp.Compare(y.Connections, x.Connections), cmp.Compare(x.Room, y.Room))
	})
	return out[:min(n, len(out))]
}
