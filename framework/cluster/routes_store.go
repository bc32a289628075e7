package cluster

import (
	"context"
	"strings"
)

func idSpaceKey() string               { return "connids" }
func routeKey(addr string) string      { return "route:" + addr }
func nodeRoutesKey(node string) string { return "node:" + node + ":routes" }

var _ Routes = (*Store)(nil)

// IDSpace implements Routes: one counter for the cluster.
func (s *Store) IDSpace(ctx context.Context) (uint64, error) {
	n, err := s.store.Incr(ctx, idSpaceKey())
	return uint64(n), err
}

// SetRoute implements Routes. The route is indexed under its node, so a
// purge of that node drops it.
func (s *Store) SetRoute(ctx context.Context, addr, node string) error {
	if err := s.store.Set(ctx, routeKey(addr), node, 0); err != nil {
		return err
	}
	_, err := s.store.SAdd(ctx, nodeRoutesKey(node), addr)
	return err
}

// DropRoute implements Routes.
func (s *Store) DropRoute(ctx context.Context, addr, node string, ended bool) error {
	if _, err := s.store.SRem(ctx, nodeRoutesKey(node), addr); err != nil {
		return err
	}
	if !ended {
		return nil
	}
	return s.store.Del(ctx, routeKey(addr))
}

// Route implements Routes.
func (s *Store) Route(ctx context.Context, addr string) (string, bool, error) {
	return s.store.Get(ctx, routeKey(addr))
}

// movedIn returns the addresses of connections that moved to node n and
// are there still (a route another node took over since is not n's).
func (s *Store) movedIn(ctx context.Context, n string) (map[string]bool, error) {
	addrs, err := s.store.SMembers(ctx, nodeRoutesKey(n))
	if err != nil {
		return nil, err
	}
	return s.routed(ctx, addrs, func(at string) bool { return at == n })
}

// purgeRoutes drops the routes of the connections that were on dead node n.
func (s *Store) purgeRoutes(ctx context.Context, n string, in map[string]bool) error {
	for a := range in {
		if err := s.store.Del(ctx, routeKey(a)); err != nil {
			return err
		}
	}
	return s.store.Del(ctx, nodeRoutesKey(n))
}

// movedAway returns the members of a close key that name dead node n yet
// moved to another node: they are not n's to purge.
func (s *Store) movedAway(ctx context.Context, n string, members []string) (map[string]bool, error) {
	return s.routed(ctx, members, func(at string) bool { return at != n })
}

// routed returns the addrs whose route names a node that at accepts.
func (s *Store) routed(ctx context.Context, addrs []string, at func(string) bool) (map[string]bool, error) {
	if len(addrs) == 0 {
		return nil, nil
	}
	keys := make([]string, len(addrs))
	for i, a := range addrs {
		keys[i] = routeKey(a)
	}
	vs, err := s.store.MGet(ctx, keys...)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for i, v := range vs {
		if v.OK && at(v.Value) {
			out[addrs[i]] = true
		}
	}
	return out, nil
}

// nodeOf returns the node part of a "node:id" member.
func nodeOf(m string) string {
	if i := strings.LastIndexByte(m, ':'); i > 0 {
		return m[:i]
	}
	return ""
}
