package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"msgo/library/cache"
)

// Store keys. A node owns every key that names it and can rebuild them from
// its own connections; shared keys (a user's nodes, a group's nodes) hold node
// ids, so a dead node's entries can be found and removed.
func nodesKey() string                 { return "nodes" }
func aliveKey(node string) string      { return "node:" + node + ":alive" }
func nodeUsersKey(node string) string  { return "node:" + node + ":users" }
func nodeGroupsKey(node string) string { return "node:" + node + ":groups" }
func nodeCKKey(node string) string     { return "node:" + node + ":closekeys" }
func userNodesKey(user string) string  { return "user:" + user }
func groupNodesKey(g string) string    { return "group:" + g + ":nodes" }
func groupUsersKey(g, node string) string {
	return "group:" + g + ":node:" + node
}

// groupAllKey holds a group's distinct users on every node, so counting
// them is one SCARD, not a union of the nodes' sets per join.
func groupAllKey(g string) string { return "group:" + g + ":users" }
func nickKey(user string) string  { return "nick:" + user }

// Store keeps one node's part of the cluster in a cache.Store (memory for
// one node, Redis for many): presence, groups, close keys and, through the
// store's publish/subscribe, the bus.
type Store struct {
	store cache.Store
	node  string

	// Built once, not per connect or join: self is node as the members of
	// one SAdd or SRem, and the rest are this node's keys.
	self                       []string
	usersKey, groupsKey, ckKey string
}

var (
	_ Presence  = (*Store)(nil)
	_ Groups    = (*Store)(nil)
	_ CloseKeys = (*Store)(nil)
	_ Broker    = (*Store)(nil)
)

// NewStore returns node's view of the cluster kept in store.
func NewStore(store cache.Store, node string) *Store {
	return &Store{
		store: store, node: node,
		self:     []string{node},
		usersKey: nodeUsersKey(node), groupsKey: nodeGroupsKey(node), ckKey: nodeCKKey(node),
	}
}

// UserOnline implements Presence.
func (s *Store) UserOnline(ctx context.Context, user string) error {
	if _, err := s.store.SAdd(ctx, userNodesKey(user), s.self...); err != nil {
		return err
	}
	_, err := s.store.SAdd(ctx, s.usersKey, user)
	return err
}

// UserOffline implements Presence.
func (s *Store) UserOffline(ctx context.Context, user string) error {
	if _, err := s.store.SRem(ctx, userNodesKey(user), s.self...); err != nil {
		return err
	}
	_, err := s.store.SRem(ctx, s.usersKey, user)
	return err
}

// UserNodes implements Presence.
func (s *Store) UserNodes(ctx context.Context, users ...string) ([]string, error) {
	if len(users) == 1 {
		return s.store.SMembers(ctx, userNodesKey(users[0]))
	}
	keys := make([]string, len(users))
	for i, u := range users {
		keys[i] = userNodesKey(u)
	}
	return s.store.SUnion(ctx, keys...)
}

func usersKeys(nodes []string) []string {
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		keys[i] = nodeUsersKey(n)
	}
	return keys
}

// OnlineUsers implements Presence.
func (s *Store) OnlineUsers(ctx context.Context, nodes []string) ([]string, error) {
	return s.store.SUnion(ctx, usersKeys(nodes)...)
}

// CountOnlineUsers implements Presence.
func (s *Store) CountOnlineUsers(ctx context.Context, nodes []string) (int, error) {
	n, err := s.store.SUnionCard(ctx, usersKeys(nodes)...)
	return int(n), err
}

// Heartbeat implements Presence.
func (s *Store) Heartbeat(ctx context.Context, info NodeInfo) (bool, error) {
	b, _ := json.Marshal(info)
	if err := s.store.Set(ctx, aliveKey(s.node), string(b), aliveTTL); err != nil {
		return false, err
	}
	added, err := s.store.SAdd(ctx, nodesKey(), s.node)
	return added == 1, err
}

// LiveNodes implements Presence.
func (s *Store) LiveNodes(ctx context.Context) ([]NodeInfo, error) {
	nodes, err := s.store.SMembers(ctx, nodesKey())
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		keys[i] = aliveKey(n)
	}
	vals, err := s.store.MGet(ctx, keys...)
	if err != nil {
		return nil, err
	}
	var live []NodeInfo
	for i, v := range vals {
		if v.OK || nodes[i] == s.node {
			var ni NodeInfo
			json.Unmarshal([]byte(v.Value), &ni)
			ni.ID = nodes[i]
			live = append(live, ni)
		}
	}
	return live, nil
}

// Reassert implements Presence. Its work grows with the node's connections,
// so it has no overall deadline: each store call has its own (StoreOp), a
// user's key is written by one of reassertLanes goroutines (one round trip
// each), and the close keys of many connections are written one SADD per key.
func (s *Store) Reassert(ctx context.Context, l Local) error {
	op := func(f func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, StoreOp)
		defer cancel()
		return f(ctx)
	}
	err := inLanes(len(l.Users), reassertLanes, func(i int) error {
		return op(func(ctx context.Context) error {
			_, err := s.store.SAdd(ctx, userNodesKey(l.Users[i]), s.node)
			return err
		})
	})
	if err != nil {
		return err
	}
	if len(l.Users) > 0 {
		if err := op(func(ctx context.Context) error {
			_, err := s.store.SAdd(ctx, s.usersKey, l.Users...)
			return err
		}); err != nil {
			return err
		}
	}
	for _, g := range l.Groups {
		if err := op(func(ctx context.Context) error { return s.GroupJoined(ctx, g.Name, g.Users) }); err != nil {
			return err
		}
	}
	keys := map[string][]string{} // close key -> this node's members of it
	for _, k := range l.CloseKeys {
		keys[k.Key] = append(keys[k.Key], k.Member)
	}
	for k, members := range keys {
		if err := op(func(ctx context.Context) error { return s.addCloseKey(ctx, k, members...) }); err != nil {
			return err
		}
	}
	for _, addr := range l.Routes {
		if err := op(func(ctx context.Context) error { return s.SetRoute(ctx, addr, s.node) }); err != nil {
			return err
		}
	}
	return nil
}

// PurgeDead implements Presence. Several live nodes may purge the same dead
// node at once; every step is idempotent.
func (s *Store) PurgeDead(ctx context.Context, done func(node string, err error)) {
	nodes, err := s.store.SMembers(ctx, nodesKey())
	if err != nil {
		return
	}
	for _, n := range nodes {
		if n == s.node {
			continue
		}
		if _, ok, err := s.store.Get(ctx, aliveKey(n)); err != nil || ok {
			continue
		}
		done(n, s.purge(ctx, n))
	}
}

// Leave implements Presence.
func (s *Store) Leave(ctx context.Context) error {
	return errors.Join(s.purge(ctx, s.node), s.store.Del(ctx, aliveKey(s.node)))
}

func (s *Store) purge(ctx context.Context, n string) error {
	st := s.store
	users, err := st.SMembers(ctx, nodeUsersKey(n))
	if err != nil {
		return err
	}
	for _, u := range users {
		if _, err := st.SRem(ctx, userNodesKey(u), n); err != nil {
			return err
		}
	}
	groups, err := st.SMembers(ctx, nodeGroupsKey(n))
	if err != nil {
		return err
	}
	for _, g := range groups {
		gone, err := st.SMembers(ctx, groupUsersKey(g, n))
		if err != nil {
			return err
		}
		if _, err := st.SRem(ctx, groupNodesKey(g), n); err != nil {
			return err
		}
		if err := st.Del(ctx, groupUsersKey(g, n)); err != nil {
			return err
		}
		for _, u := range gone {
			if err := s.userGone(ctx, g, u); err != nil {
				return err
			}
		}
	}
	in, err := s.movedIn(ctx, n)
	if err != nil {
		return err
	}
	cks, err := st.SMembers(ctx, nodeCKKey(n))
	if err != nil {
		return err
	}
	for _, k := range cks {
		members, err := st.SMembers(ctx, k)
		if err != nil {
			return err
		}
		var gone []string
		for _, m := range members {
			if nodeOf(m) == n || in[m] {
				gone = append(gone, m)
			}
		}
		if len(gone) > 0 {
			moved, err := s.movedAway(ctx, n, gone)
			if err != nil {
				return err
			}
			gone = slices.DeleteFunc(gone, func(m string) bool { return moved[m] })
		}
		if len(gone) > 0 {
			if _, err := st.SRem(ctx, k, gone...); err != nil {
				return err
			}
		}
	}
	if err := s.purgeRoutes(ctx, n, in); err != nil {
		return err
	}
	if err := st.Del(ctx, nodeUsersKey(n), nodeGroupsKey(n), nodeCKKey(n)); err != nil {
		return err
	}
	_, err = st.SRem(ctx, nodesKey(), n)
	return err
}

// GroupJoined implements Groups.
func (s *Store) GroupJoined(ctx context.Context, g string, users []string) error {
	if _, err := s.store.SAdd(ctx, groupNodesKey(g), s.self...); err != nil {
		return err
	}
	if _, err := s.store.SAdd(ctx, s.groupsKey, g); err != nil {
		return err
	}
	if len(users) > 0 {
		// The node's set first: userGone reads it to decide whether a
		// user still belongs in the cluster-wide set.
		if _, err := s.store.SAdd(ctx, groupUsersKey(g, s.node), users...); err != nil {
			return err
		}
		if _, err := s.store.SAdd(ctx, groupAllKey(g), users...); err != nil {
			return err
		}
	}
	return nil
}

// GroupLeft implements Groups.
func (s *Store) GroupLeft(ctx context.Context, g, user string, last bool) error {
	if user != "" {
		if _, err := s.store.SRem(ctx, groupUsersKey(g, s.node), user); err != nil {
			return err
		}
		if err := s.userGone(ctx, g, user); err != nil {
			return err
		}
	}
	if !last {
		return nil
	}
	if _, err := s.store.SRem(ctx, groupNodesKey(g), s.self...); err != nil {
		return err
	}
	_, err := s.store.SRem(ctx, s.groupsKey, g)
	return err
}

// GroupNodes implements Groups.
func (s *Store) GroupNodes(ctx context.Context, g string) ([]string, error) {
	return s.store.SMembers(ctx, groupNodesKey(g))
}

// UserGroups implements Groups.
func (s *Store) UserGroups(ctx context.Context, node string, users []string) ([]string, error) {
	groups, err := s.store.SMembers(ctx, nodeGroupsKey(node))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range groups {
		for _, u := range users {
			in, err := s.store.SIsMember(ctx, groupUsersKey(g, node), u)
			if err != nil {
				return nil, err
			}
			if in {
				out = append(out, g)
				break
			}
		}
	}
	return out, nil
}

// userGone takes user u out of group g's cluster-wide set once no node's
// set holds it. A node joining u meanwhile adds it to its own set before
// the cluster-wide one, so checking again after the removal and putting u
// back if a node holds it now leaves the set right whichever order the
// two nodes' steps take.
func (s *Store) userGone(ctx context.Context, g, u string) error {
	held := func() (bool, error) {
		nodes, err := s.store.SMembers(ctx, groupNodesKey(g))
		if err != nil {
			return false, err
		}
		for _, n := range nodes {
			if ok, err := s.store.SIsMember(ctx, groupUsersKey(g, n), u); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	if h, err := held(); err != nil || h {
		return err
	}
	if _, err := s.store.SRem(ctx, groupAllKey(g), u); err != nil {
		return err
	}
	if h, err := held(); err != nil || !h {
		return err
	}
	_, err := s.store.SAdd(ctx, groupAllKey(g), u)
	return err
}

// CountGroupUsers implements Groups: one set's size, whatever the group's
// size.
func (s *Store) CountGroupUsers(ctx context.Context, g string) (int, error) {
	n, err := s.store.SCard(ctx, groupAllKey(g))
	return int(n), err
}

// GroupUsers implements Groups.
func (s *Store) GroupUsers(ctx context.Context, g string, limit int) ([]User, error) {
	users, err := s.store.SMembers(ctx, groupAllKey(g))
	if err != nil || len(users) == 0 {
		return nil, err
	}
	slices.Sort(users)
	if limit > 0 && len(users) > limit {
		users = users[:limit]
	}
	nk := make([]string, len(users))
	for i, u := range users {
		nk[i] = nickKey(u)
	}
	nicks, err := s.store.MGet(ctx, nk...)
	if err != nil {
		return nil, err
	}
	out := make([]User, len(users))
	for i, u := range users {
		out[i] = User{Key: u, Nickname: nicks[i].Value}
	}
	return out, nil
}

// SetNickname implements Groups.
func (s *Store) SetNickname(ctx context.Context, user, nickname string) error {
	return s.store.Set(ctx, nickKey(user), nickname, nickTTL)
}

// AddCloseKey implements CloseKeys.
func (s *Store) AddCloseKey(ctx context.Context, key, member string) error {
	return s.addCloseKey(ctx, key, member)
}

func (s *Store) addCloseKey(ctx context.Context, key string, members ...string) error {
	if _, err := s.store.SAdd(ctx, key, members...); err != nil {
		return err
	}
	_, err := s.store.SAdd(ctx, s.ckKey, key)
	return err
}

// RemoveCloseKey implements CloseKeys.
func (s *Store) RemoveCloseKey(ctx context.Context, key, member string) error {
	_, err := s.store.SRem(ctx, key, member)
	return err
}

// CloseKeyMembers implements CloseKeys.
func (s *Store) CloseKeyMembers(ctx context.Context, key string) ([]string, error) {
	return s.store.SMembers(ctx, key)
}
