package cluster

import (
	"hash/maphash"
	"slices"
	"sync"
)

const hubShards = 64

// Hub is this node's index of its own members (connections) by user and by
// group. It is sharded so that connects, joins and pushes on different keys
// do not contend; locks are never held while calling out. M is the member
// type (a connection pointer); the Hub learns a member's user from the key
// function given to NewHub.
type Hub[M comparable] struct {
	seed    maphash.Seed
	userKey func(M) string
	shards  [hubShards]hubShard[M]
}

type hubShard[M comparable] struct {
	mu sync.RWMutex
	// users holds each user's first member and more the others, if any:
	// most users have one device, and a map entry per user of a pointer
	// instead of a slice (and its array) saves some 40 bytes each.
	users  map[string]M
	more   map[string][]M
	groups map[string]*group[M]
}

// group is one group's local members. members is dense so a push walks a
// slice. Once the group is large, index gives O(1) removal and users counts
// members per user, so the store learns only a user's first join and last
// leave on this node; a small group has neither map (some 60 bytes per
// member) and searches members instead, which is as fast at that size.
type group[M comparable] struct {
	members []M
	index   map[M]int      // nil below groupIndexMin members
	users   map[string]int // user key -> members; nil with index
}

// A group gets its maps at groupIndexMin members and drops them below half
// that, so a group near the bound does not rebuild them at every join.
const groupIndexMin = 256

// find returns m's position in members, or -1.
func (gr *group[M]) find(m M) int {
	if gr.index == nil {
		return slices.Index(gr.members, m)
	}
	if i, ok := gr.index[m]; ok {
		return i
	}
	return -1
}

// hasUser reports whether a member is one of user's.
func (gr *group[M]) hasUser(user string, userKey func(M) string) bool {
	if gr.users != nil {
		return gr.users[user] > 0
	}
	return slices.ContainsFunc(gr.members, func(m M) bool { return userKey(m) == user })
}

// NewHub returns an empty hub; userKey names a member's user.
func NewHub[M comparable](userKey func(M) string) *Hub[M] {
	h := &Hub[M]{seed: maphash.MakeSeed(), userKey: userKey}
	for i := range h.shards {
		h.shards[i] = hubShard[M]{
			users:  make(map[string]M),
			more:   make(map[string][]M),
			groups: make(map[string]*group[M]),
		}
	}
	return h
}

func (h *Hub[M]) byKey(k string) *hubShard[M] { return &h.shards[maphash.String(h.seed, k)%hubShards] }

// AddUser indexes c under user key and reports whether it is the user's
// first member on this node.
func (h *Hub[M]) AddUser(key string, c M) bool {
	sh := h.byKey(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.users[key]; !ok {
		sh.users[key] = c
		return true
	}
	sh.more[key] = append(sh.more[key], c)
	return false
}

// RemoveUser forgets c under user key and reports whether it was the
// user's last member on this node.
func (h *Hub[M]) RemoveUser(key string, c M) bool {
	sh := h.byKey(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	first, ok := sh.users[key]
	if !ok {
		return true // not indexed: nothing of the user is left either
	}
	cs := sh.more[key]
	if first == c {
		if len(cs) == 0 {
			delete(sh.users, key)
			return true
		}
		sh.users[key] = cs[len(cs)-1]
		c = cs[len(cs)-1]
	}
	for i, x := range cs {
		if x == c {
			cs[i] = cs[len(cs)-1]
			var zero M
			cs[len(cs)-1] = zero
			cs = cs[:len(cs)-1]
			break
		}
	}
	if len(cs) == 0 {
		delete(sh.more, key)
	} else {
		sh.more[key] = cs
	}
	return false
}

// UserMembers appends the user's members on this node to dst.
func (h *Hub[M]) UserMembers(dst []M, key string) []M {
	sh := h.byKey(key)
	sh.mu.RLock()
	if c, ok := sh.users[key]; ok {
		dst = append(dst, c)
		dst = append(dst, sh.more[key]...)
	}
	sh.mu.RUnlock()
	return dst
}

// Users calls fn for every user key on this node with its member count.
func (h *Hub[M]) Users(fn func(key string, members int)) {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for k := range sh.users {
			fn(k, 1+len(sh.more[k]))
		}
		sh.mu.RUnlock()
	}
}

// Join adds c to group g. It reports whether c was new to the group, whether
// it is the group's first member on this node, and whether it is the first
// member of its user in the group on this node.
func (h *Hub[M]) Join(g string, c M) (added, firstMember, firstOfUser bool) {
	sh := h.byKey(g)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	gr := sh.groups[g]
	if gr == nil {
		gr = &group[M]{}
		sh.groups[g] = gr
	}
	if gr.find(c) >= 0 {
		return false, false, false
	}
	user := h.userKey(c)
	firstOfUser = !gr.hasUser(user, h.userKey)
	gr.members = append(gr.members, c)
	switch {
	case gr.index != nil:
		gr.index[c] = len(gr.members) - 1
		gr.users[user]++
	case len(gr.members) >= groupIndexMin:
		gr.index = make(map[M]int, len(gr.members))
		gr.users = make(map[string]int)
		for i, m := range gr.members {
			gr.index[m] = i
			gr.users[h.userKey(m)]++
		}
	}
	return true, len(gr.members) == 1, firstOfUser
}

// Leave removes c from group g, reporting like Join in reverse.
func (h *Hub[M]) Leave(g string, c M) (removed, lastMember, lastOfUser bool) {
	sh := h.byKey(g)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	gr := sh.groups[g]
	if gr == nil {
		return false, false, false
	}
	i := gr.find(c)
	if i < 0 {
		return false, false, false
	}
	last := len(gr.members) - 1
	gr.members[i] = gr.members[last]
	var zero M
	gr.members[last] = zero
	gr.members = gr.members[:last]
	user := h.userKey(c)
	switch {
	case gr.index == nil:
	case len(gr.members) < groupIndexMin/2:
		gr.index, gr.users = nil, nil
	default:
		if i < last {
			gr.index[gr.members[i]] = i
		}
		delete(gr.index, c)
		if gr.users[user]--; gr.users[user] == 0 {
			delete(gr.users, user)
		}
	}
	lastOfUser = !gr.hasUser(user, h.userKey)
	if len(gr.members) == 0 {
		delete(sh.groups, g)
		lastMember = true
	}
	return true, lastMember, lastOfUser
}

// GroupMembers appends the group's members on this node to dst: a copy
// taken under the lock, so a push to thousands writes without holding it.
func (h *Hub[M]) GroupMembers(dst []M, g string) []M {
	sh := h.byKey(g)
	sh.mu.RLock()
	if gr := sh.groups[g]; gr != nil {
		dst = append(dst, gr.members...)
	}
	sh.mu.RUnlock()
	return dst
}

// GroupUsers is a group and the users of its members on this node.
type GroupUsers struct {
	Name  string
	Users []string
}

// Groups lists every group with members on this node and its users.
func (h *Hub[M]) Groups() []GroupUsers {
	var out []GroupUsers
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for name, gr := range sh.groups {
			g := GroupUsers{Name: name}
			for _, m := range gr.members {
				g.Users = append(g.Users, h.userKey(m))
			}
			slices.Sort(g.Users)
			g.Users = slices.Compact(g.Users)
			out = append(out, g)
		}
		sh.mu.RUnlock()
	}
	return out
}

// GroupSize is a group's size on this node.
type GroupSize struct {
	Name    string
	Members int
	Users   int // distinct users of the members
}

// GroupSizes lists every group with members on this node and its size.
func (h *Hub[M]) GroupSizes() []GroupSize {
	var out []GroupSize
	var keys []string
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for name, gr := range sh.groups {
			users := len(gr.users)
			if gr.users == nil { // a small group keeps no per-user index
				keys = keys[:0]
				for _, m := range gr.members {
					keys = append(keys, h.userKey(m))
				}
				slices.Sort(keys)
				users = len(slices.Compact(keys))
			}
			out = append(out, GroupSize{Name: name, Members: len(gr.members), Users: users})
		}
		sh.mu.RUnlock()
	}
	return out
}
