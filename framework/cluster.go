package framework

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"msgo/library/cache"
)

// Liveness: a node refreshes its key every heartbeat; a node whose key has
// expired is dead, and any live node purges what it left in the store.
const (
	heartbeat = 2 * time.Second
	aliveTTL  = 6 * time.Second
	nickTTL   = 24 * time.Hour
	storeOp   = 2 * time.Second // bound on one background store operation
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

// Addr addresses a connection cluster-wide: node id and connection id.
type Addr struct {
	Node string
	ID   ConnID
}

func (a Addr) String() string { return a.Node + ":" + strconv.FormatUint(uint64(a.ID), 10) }

// ParseAddr reads an Addr from its String form.
func ParseAddr(s string) (Addr, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return Addr{}, false
	}
	id, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return Addr{}, false
	}
	return Addr{Node: s[:i], ID: ConnID(id)}, true
}

// nodeInfo is what a node publishes in its liveness key.
type nodeInfo struct {
	Conns   int   `json:"conns"`
	Started int64 `json:"started"`
}

// cluster keeps this node's part of the shared store true: liveness, presence
// and groups, re-asserted from local state whenever the store lost them.
type cluster struct {
	app   *App
	store cache.Store
	node  string
	dirty atomic.Bool // a write failed: rebuild this node's keys at the next beat

	// Built once, not per connect or join: self is node as the members of
	// one SAdd or SRem, and the rest are this node's keys.
	self                       []string
	usersKey, groupsKey, ckKey string
}

func newCluster(a *App, store cache.Store, node string) *cluster {
	return &cluster{
		app: a, store: store, node: node,
		self:     []string{node},
		usersKey: nodeUsersKey(node), groupsKey: nodeGroupsKey(node), ckKey: nodeCKKey(node),
	}
}

// failed records a store error from a background write.
func (cl *cluster) failed(op string, err error) {
	if err == nil {
		return
	}
	cl.dirty.Store(true)
	cl.app.srv.metrics.storeError()
	cl.app.srv.log.Warn("store write failed; will re-assert", "op", op, "err", err)
}

func (cl *cluster) run(ctx context.Context) {
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	first := true
	for {
		cl.beat(ctx, first)
		first = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// beat refreshes liveness, rebuilds this node's keys if the store lost them
// (a Redis restarted empty) or a write failed, and purges dead nodes.
func (cl *cluster) beat(parent context.Context, first bool) {
	ctx, cancel := context.WithTimeout(parent, storeOp)
	defer cancel()
	info, _ := json.Marshal(nodeInfo{Conns: cl.app.srv.Connections(), Started: cl.app.srv.started.Unix()})
	if err := cl.store.Set(ctx, aliveKey(cl.node), string(info), aliveTTL); err != nil {
		cl.failed("heartbeat", err)
		return
	}
	added, err := cl.store.SAdd(ctx, nodesKey(), cl.node)
	if err != nil {
		cl.failed("heartbeat", err)
		return
	}
	if (added == 1 && !first) || cl.dirty.Load() {
		cl.dirty.Store(false)
		if err := cl.reassert(parent); err != nil {
			cl.failed("reassert", err)
			return
		}
		cl.app.srv.log.Info("re-asserted this node's presence, groups and close keys in the store")
	}
	cl.purgeDead(ctx)
}

// reassert writes every key this node owns from its local connections. Its
// work grows with the node's connections, so it has no overall deadline:
// each store call has its own, a user's key is written by one of
// reassertLanes goroutines (one round trip each), and the close keys of many
// connections are written one SADD per key.
func (cl *cluster) reassert(ctx context.Context) error {
	s := cl.store
	h := cl.app.srv.hub
	op := func(f func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, storeOp)
		defer cancel()
		return f(ctx)
	}
	var users []string
	h.users(func(k string, _ int) { users = append(users, k) })
	err := inLanes(len(users), reassertLanes, func(i int) error {
		return op(func(ctx context.Context) error {
			_, err := s.SAdd(ctx, userNodesKey(users[i]), cl.node)
			return err
		})
	})
	if err != nil {
		return err
	}
	if len(users) > 0 {
		if err := op(func(ctx context.Context) error {
			_, err := s.SAdd(ctx, nodeUsersKey(cl.node), users...)
			return err
		}); err != nil {
			return err
		}
	}
	for _, g := range h.groupSnapshot() {
		if err := op(func(ctx context.Context) error { return cl.groupAdded(ctx, g.name, g.users) }); err != nil {
			return err
		}
	}
	keys := map[string][]string{} // close key -> this node's members of it
	h.each(func(c *conn) {
		c.mu.Lock()
		if c.hooks != nil && c.state == stateOpen {
			for k := range c.hooks.list.names(hookCloseKey) {
				keys[k] = append(keys[k], Addr{cl.node, c.id}.String())
			}
		}
		c.mu.Unlock()
	})
	for k, members := range keys {
		if err := op(func(ctx context.Context) error { return cl.closeKeyAdded(ctx, k, members...) }); err != nil {
			return err
		}
	}
	return nil
}

// reassertLanes is how many store calls a reassert has in flight at once:
// enough to hide round trips, few enough to leave the store's connection
// pool to the requests being served meanwhile.
const reassertLanes = 8

// inLanes calls fn(0..n-1) on up to lanes goroutines and returns the first
// error; after an error no new call starts.
func inLanes(n, lanes int, fn func(i int) error) error {
	var (
		next  atomic.Int64
		first atomic.Pointer[error]
		wg    sync.WaitGroup
	)
	for range min(n, lanes) {
		wg.Go(func() {
			for first.Load() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return *e
	}
	return nil
}

func (cl *cluster) groupAdded(ctx context.Context, g string, users []string) error {
	s := cl.store
	if _, err := s.SAdd(ctx, groupNodesKey(g), cl.self...); err != nil {
		return err
	}
	if _, err := s.SAdd(ctx, cl.groupsKey, g); err != nil {
		return err
	}
	if len(users) > 0 {
		// The node's set first: userGone reads it to decide whether a
		// user still belongs in the cluster-wide set.
		if _, err := s.SAdd(ctx, groupUsersKey(g, cl.node), users...); err != nil {
			return err
		}
		if _, err := s.SAdd(ctx, groupAllKey(g), users...); err != nil {
			return err
		}
	}
	return nil
}

// userGone takes user u out of group g's cluster-wide set once no node's
// set holds it. A node joining u meanwhile adds it to its own set before
// the cluster-wide one, so checking again after the removal and putting u
// back if a node holds it now leaves the set right whichever order the
// two nodes' steps take.
func (cl *cluster) userGone(ctx context.Context, g, u string) error {
	s := cl.store
	held := func() (bool, error) {
		nodes, err := s.SMembers(ctx, groupNodesKey(g))
		if err != nil {
			return false, err
		}
		for _, n := range nodes {
			if ok, err := s.SIsMember(ctx, groupUsersKey(g, n), u); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	if h, err := held(); err != nil || h {
		return err
	}
	if _, err := s.SRem(ctx, groupAllKey(g), u); err != nil {
		return err
	}
	if h, err := held(); err != nil || !h {
		return err
	}
	_, err := s.SAdd(ctx, groupAllKey(g), u)
	return err
}

func (cl *cluster) closeKeyAdded(ctx context.Context, key string, members ...string) error {
	if _, err := cl.store.SAdd(ctx, key, members...); err != nil {
		return err
	}
	_, err := cl.store.SAdd(ctx, cl.ckKey, key)
	return err
}

// liveNodes returns the nodes whose liveness key exists, this one included.
func (cl *cluster) liveNodes(ctx context.Context) ([]string, []nodeInfo, error) {
	nodes, err := cl.store.SMembers(ctx, nodesKey())
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		keys[i] = aliveKey(n)
	}
	vals, err := cl.store.MGet(ctx, keys...)
	if err != nil {
		return nil, nil, err
	}
	var live []string
	var infos []nodeInfo
	for i, v := range vals {
		if v.OK || nodes[i] == cl.node {
			var ni nodeInfo
			json.Unmarshal([]byte(v.Value), &ni)
			if nodes[i] == cl.node {
				ni.Conns = cl.app.srv.Connections()
			}
			live = append(live, nodes[i])
			infos = append(infos, ni)
		}
	}
	return live, infos, nil
}

// purgeDead removes every trace of nodes whose liveness key expired. Several
// live nodes may purge the same dead node at once; every step is idempotent.
func (cl *cluster) purgeDead(ctx context.Context) {
	nodes, err := cl.store.SMembers(ctx, nodesKey())
	if err != nil {
		return
	}
	for _, n := range nodes {
		if n == cl.node {
			continue
		}
		if _, ok, err := cl.store.Get(ctx, aliveKey(n)); err != nil || ok {
			continue
		}
		if err := cl.purge(ctx, n); err != nil {
			cl.failed("purge "+n, err)
			continue
		}
		cl.app.srv.log.Info("purged dead node", "node", n)
		if b := cl.app.srv.backend; b != nil {
			b.NodeLost(n)
		}
	}
}

func (cl *cluster) purge(ctx context.Context, n string) error {
	s := cl.store
	users, err := s.SMembers(ctx, nodeUsersKey(n))
	if err != nil {
		return err
	}
	for _, u := range users {
		if _, err := s.SRem(ctx, userNodesKey(u), n); err != nil {
			return err
		}
	}
	groups, err := s.SMembers(ctx, nodeGroupsKey(n))
	if err != nil {
		return err
	}
	for _, g := range groups {
		gone, err := s.SMembers(ctx, groupUsersKey(g, n))
		if err != nil {
			return err
		}
		if _, err := s.SRem(ctx, groupNodesKey(g), n); err != nil {
			return err
		}
		if err := s.Del(ctx, groupUsersKey(g, n)); err != nil {
			return err
		}
		for _, u := range gone {
			if err := cl.userGone(ctx, g, u); err != nil {
				return err
			}
		}
	}
	cks, err := s.SMembers(ctx, nodeCKKey(n))
	if err != nil {
		return err
	}
	for _, k := range cks {
		members, err := s.SMembers(ctx, k)
		if err != nil {
			return err
		}
		var gone []string
		for _, m := range members {
			if a, ok := ParseAddr(m); ok && a.Node == n {
				gone = append(gone, m)
			}
		}
		if len(gone) > 0 {
			if _, err := s.SRem(ctx, k, gone...); err != nil {
				return err
			}
		}
	}
	if err := s.Del(ctx, nodeUsersKey(n), nodeGroupsKey(n), nodeCKKey(n)); err != nil {
		return err
	}
	_, err = s.SRem(ctx, nodesKey(), n)
	return err
}
