package cluster

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

const hubShards = 64

// hub is this node's index of its own connections: by id, by user and by
// group. It is sharded so that connects, joins and pushes on different keys
// do not contend; locks are never held while calling out.
type hub struct {
	seed   maphash.Seed
	shards [hubShards]hubShard
	count  atomic.Int64
}

type hubShard struct {
	mu    sync.RWMutex
	conns map[ConnID]*conn
	// users holds each user's first connection and more the others, if
	// any: most users have one device, and a map entry per user of a
	// pointer instead of a slice (and its array) saves some 40 bytes each.
	users  map[string]*conn
	more   map[string][]*conn
	groups map[string]*group
}

// group is one group's local members. members is dense so a push walks a
// slice. Once the group is large, index gives O(1) removal and users counts
// connections per user, so the store learns only a user's first join and
// last leave on this node; a small group has neither map (some 60 bytes per
// member) and searches members instead, which is as fast at that size.
type group struct {
	members []*conn
	index   map[*conn]int  // nil below groupIndexMin members
	users   map[string]int // user key -> connections; nil with index
}

// A group gets its maps at groupIndexMin members and drops them below half
// that, so a group near the bound does not rebuild them at every join.
const groupIndexMin = 256

// find returns c's position in members, or -1.
func (gr *group) find(c *conn) int {
	if gr.index == nil {
		return slices.Index(gr.members, c)
	}
	if i, ok := gr.index[c]; ok {
		return i
	}
	return -1
}

// hasUser reports whether a member is a connection of user.
func (gr *group) hasUser(user string) bool {
	if gr.users != nil {
		return gr.users[user] > 0
	}
	return slices.ContainsFunc(gr.members, func(m *conn) bool { return m.ident.key == user })
}

func newHub() *hub {
	h := &hub{seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i] = hubShard{
			conns:  make(map[ConnID]*conn),
			users:  make(map[string]*conn),
			more:   make(map[string][]*conn),
			groups: make(map[string]*group),
		}
	}
	return h
}

func (h *hub) byID(id ConnID) *hubShard { return &h.shards[uint64(id)%hubShards] }
func (h *hub) byKey(k string) *hubShard { return &h.shards[maphash.String(h.seed, k)%hubShards] }

func (h *hub) add(c *conn) {
	sh := h.byID(c.id)
	sh.mu.Lock()
	sh.conns[c.id] = c
	sh.mu.Unlock()
	h.count.Add(1)
}

// remove forgets c and reports whether it was there.
func (h *hub) remove(c *conn) bool {
	sh := h.byID(c.id)
	sh.mu.Lock()
	_, ok := sh.conns[c.id]
	delete(sh.conns, c.id)
	sh.mu.Unlock()
	if ok {
		h.count.Add(-1)
	}
	return ok
}

func (h *hub) get(id ConnID) *conn {
	sh := h.byID(id)
	sh.mu.RLock()
	c := sh.conns[id]
	sh.mu.RUnlock()
	return c
}

// each calls fn for every connection; fn runs without any hub lock held.
func (h *hub) each(fn func(*conn)) {
	var batch []*conn
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		batch = batch[:0]
		for _, c := range sh.conns {
			batch = append(batch, c)
		}
		sh.mu.RUnlock()
		for _, c := range batch {
			fn(c)
		}
	}
}

// addUser indexes c under its user and reports whether it is the user's
// first connection on this node.
func (h *hub) addUser(key string, c *conn) bool {
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

// removeUser reports whether c was the user's last connection on this node.
func (h *hub) removeUser(key string, c *conn) bool {
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
			cs[len(cs)-1] = nil
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

// userConns appends the user's connections on this node to dst.
func (h *hub) userConns(dst []*conn, key string) []*conn {
	sh := h.byKey(key)
	sh.mu.RLock()
	if c, ok := sh.users[key]; ok {
		dst = append(dst, c)
		dst = append(dst, sh.more[key]...)
	}
	sh.mu.RUnlock()
	return dst
}

// users calls fn for every user key on this node.
func (h *hub) users(fn func(key string, conns int)) {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for k := range sh.users {
			fn(k, 1+len(sh.more[k]))
		}
		sh.mu.RUnlock()
	}
}

// join adds c to group g. It reports whether c was new to the group, whether
// it is the group's first member on this node, and whether it is the first
// connection of its user in the group on this node.
func (h *hub) join(g string, c *conn) (added, firstMember, firstOfUser bool) {
	sh := h.byKey(g)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	gr := sh.groups[g]
	if gr == nil {
		gr = &group{}
		sh.groups[g] = gr
	}
	if gr.find(c) >= 0 {
		return false, false, false
	}
	user := c.ident.key
	firstOfUser = !gr.hasUser(user)
	gr.members = append(gr.members, c)
	switch {
	case gr.index != nil:
		gr.index[c] = len(gr.members) - 1
		gr.users[user]++
	case len(gr.members) >= groupIndexMin:
		gr.index = make(map[*conn]int, len(gr.members))
		gr.users = make(map[string]int)
		for i, m := range gr.members {
			gr.index[m] = i
			gr.users[m.ident.key]++
		}
	}
	return true, len(gr.members) == 1, firstOfUser
}

// leave removes c from group g, reporting like join in reverse.
func (h *hub) leave(g string, c *conn) (removed, lastMember, lastOfUser bool) {
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
	gr.members[last] = nil
	gr.members = gr.members[:last]
	user := c.ident.key
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
	lastOfUser = !gr.hasUser(user)
	if len(gr.members) == 0 {
		delete(sh.groups, g)
		lastMember = true
	}
	return true, lastMember, lastOfUser
}

// groupConns appends the group's members on this node to dst: a copy taken
// under the lock, so a push to thousands writes without holding it.
func (h *hub) groupConns(dst []*conn, g string) []*conn {
	sh := h.byKey(g)
	sh.mu.RLock()
	if gr := sh.groups[g]; gr != nil {
		dst = append(dst, gr.members...)
	}
	sh.mu.RUnlock()
	return dst
}

type groupUsers struct {
	name  string
	users []string
}

// groupSnapshot lists every group with members on this node and its users.
func (h *hub) groupSnapshot() []groupUsers {
	var out []groupUsers
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for name, gr := range sh.groups {
			g := groupUsers{name: name}
			for _, m := range gr.members {
				g.users = append(g.users, m.ident.key)
			}
			slices.Sort(g.users)
			g.users = slices.Compact(g.users)
			out = append(out, g)
		}
		sh.mu.RUnlock()
	}
	return out
}

// conns lists are borrowed from a pool for pushes.
var connLists = sync.Pool{New: func() any { s := make([]*conn, 0, 64); return &s }}
