package framework

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"msgo/library/cache"
)

// App is the handle controllers and the manager port use to reach
// connections, users and groups. Every operation that names a user, a group or
// a close key works cluster-wide: local connections are written directly, and
// each other node that has targets gets the frame once over the bus. Methods
// are safe for concurrent use.
type App struct {
	srv     *Server
	store   cache.Store
	node    string
	cluster *cluster
	bus     *bus
	stopBg  context.CancelFunc
	bgDone  chan struct{}
}

func newApp(s *Server, store cache.Store) *App {
	a := &App{srv: s, store: store, node: s.cfg.NodeID}
	a.cluster = newCluster(a, store, a.node)
	a.bus = newBus(a, store, a.node)
	return a
}

// start joins the cluster: liveness, purge of dead nodes, and the bus. It
// waits a moment for the bus subscription so pushes right after start are
// not missed, but a store that is down does not stop the node from starting:
// it serves its own connections and catches up when the store is back.
func (a *App) start(ctx context.Context) {
	ctx, a.stopBg = context.WithCancel(ctx)
	a.bgDone = make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(a.bgDone)
		done := make(chan struct{})
		go func() { a.bus.run(ctx, ready); close(done) }()
		a.cluster.run(ctx)
		<-done
	}()
	select {
	case <-ready:
	case <-time.After(3 * time.Second):
		a.srv.log.Warn("store unreachable at start; serving local connections until it is back")
	}
}

// stop leaves the cluster cleanly: this node's keys are removed now rather
// than purged later by others.
func (a *App) stop() {
	if a.stopBg == nil {
		return
	}
	a.stopBg()
	<-a.bgDone
	ctx, cancel := context.WithTimeout(context.Background(), storeOp)
	defer cancel()
	a.cluster.purge(ctx, a.node)
	a.store.Del(ctx, aliveKey(a.node))
}

// NodeID returns this node's id.
func (a *App) NodeID() string { return a.node }

// Store returns the shared store, for modules that keep state of their own in it.
func (a *App) Store() cache.Store { return a.store }

func (a *App) conn(id ConnID) (*conn, error) {
	c := a.srv.hub.get(id)
	if c == nil {
		return nil, ErrConnGone
	}
	return c, nil
}

// Send writes a frame to a local connection.
func (a *App) Send(id ConnID, f *Frame) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	return c.send(f.b)
}

// SendSuccess pushes {"status":200,"info","param","event"} to a local connection.
func (a *App) SendSuccess(id ConnID, event, info string, param any) error {
	f, err := NewFrame(Message{Status: StatusOK, Info: info, Param: param, Event: event})
	if err != nil {
		return err
	}
	return a.Send(id, f)
}

// SendError pushes an error status to a local connection.
func (a *App) SendError(id ConnID, status int, info string) error {
	f, err := NewFrame(Message{Status: status, Info: info, Event: "error"})
	if err != nil {
		return err
	}
	return a.Send(id, f)
}

// Close closes a local connection with code (1000 when 0).
func (a *App) Close(id ConnID, code int, reason string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	if code == 0 {
		code = 1000
	}
	c.closeWith(code, reason)
	return nil
}

// hooksOf returns c's hooks for change under c.mu, or nil once c is closing.
func hooksOf(c *conn) *hooks {
	if c.state != stateOpen {
		return nil
	}
	if c.hooks == nil {
		c.hooks = &hooks{}
	}
	return c.hooks
}

// editHooks applies fn to c's hooks; false once c is closing.
func editHooks(c *conn, fn func(h *hooks)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := hooksOf(c)
	if h == nil {
		return false
	}
	fn(h)
	return true
}

// FdAddCloseKey adds the connection to the store set key (member node:fd) and
// removes it again when the connection closes, however it closes.
func (a *App) FdAddCloseKey(ctx context.Context, id ConnID, key string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	added := false
	if !editHooks(c, func(h *hooks) {
		if !h.list.has(hookCloseKey, equalTo(key)) {
			h.list = h.list.with(hookCloseKey, key)
			added = true
		}
	}) {
		return ErrConnGone
	}
	if !added {
		return nil
	}
	if err := a.cluster.closeKeyAdded(ctx, key, Addr{a.node, id}.String()); err != nil {
		a.cluster.failed("close key", err)
		return err
	}
	return nil
}

// FdRemoveCloseKey undoes FdAddCloseKey now.
func (a *App) FdRemoveCloseKey(ctx context.Context, id ConnID, key string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	editHooks(c, func(h *hooks) { h.list = h.list.without(hookCloseKey, equalTo(key)) })
	_, err = a.store.SRem(ctx, key, Addr{a.node, id}.String())
	return err
}

// CloseKeyMembers returns the connections in the close-key set key.
func (a *App) CloseKeyMembers(ctx context.Context, key string) ([]Addr, error) {
	ms, err := a.store.SMembers(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]Addr, 0, len(ms))
	for _, m := range ms {
		if ad, ok := ParseAddr(m); ok {
			out = append(out, ad)
		}
	}
	return out, nil
}

// FdAddController names a close controller (registered with Router.OnClose)
// to run once when the connection closes.
func (a *App) FdAddController(id ConnID, name string) error {
	if a.srv.router.closer(name) == nil {
		return fmt.Errorf("framework: no close controller %q", name)
	}
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	if !editHooks(c, func(h *hooks) {
		if !h.list.has(hookController, func(n string) bool { return strings.EqualFold(n, name) }) {
			h.list = h.list.with(hookController, name)
		}
	}) {
		return ErrConnGone
	}
	return nil
}

// FdRemoveController undoes FdAddController.
func (a *App) FdRemoveController(id ConnID, name string) error {
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	editHooks(c, func(h *hooks) {
		h.list = h.list.without(hookController, func(n string) bool { return strings.EqualFold(n, name) })
	})
	return nil
}

func (c *conn) userKey() string { return c.ident.key }

// connected records a new connection's presence.
func (a *App) connected(c *conn) {
	u := c.userKey()
	if !a.srv.hub.addUser(u, c) {
		return
	}
	// No timer per connection: every store bounds its own operations.
	ctx := a.srv.ctx
	if _, err := a.store.SAdd(ctx, userNodesKey(u), a.cluster.self...); err != nil {
		a.cluster.failed("presence", err)
		return
	}
	_, err := a.store.SAdd(ctx, a.cluster.usersKey, u)
	a.cluster.failed("presence", err)
}

// runConnects runs the router's connect functions for a new connection,
// on its worker before its 101 is written (see ConnectFunc).
func (a *App) runConnects(c *conn) {
	fns := a.srv.router.connects
	if len(fns) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(a.srv.ctx, storeOp)
	defer cancel()
	cl := c.client()
	for _, fn := range fns {
		func() {
			defer func() {
				if p := recover(); p != nil {
					a.srv.log.Error("connect function panicked", "conn", c.id, "panic", fmt.Sprint(p))
				}
			}()
			fn(ctx, a, cl)
		}()
	}
}

// disconnected undoes everything a closed connection did: its close
// controllers run first (they may still leave groups and count), then its
// remaining groups, close keys and presence go.
func (a *App) disconnected(c *conn, h *hooks) {
	// Not the server's context: a stop must still undo presence. Hooks run
	// application code, so they get a bound; presence relies on the store's.
	ctx := context.Background()
	cl := c.client()
	if h != nil {
		hctx, cancel := context.WithTimeout(ctx, storeOp)
		defer cancel()
		for st := h.streams; st != nil; st = st.next {
			st.cancel()
			a.srv.work.leave()
		}
		for name := range h.list.names(hookController) {
			a.runCloser(hctx, name, cl)
		}
		// Groups a controller already left are no-ops here.
		for g := range h.list.names(hookGroup) {
			a.leave(hctx, c, g)
		}
		for k := range h.list.names(hookCloseKey) {
			if _, err := a.store.SRem(hctx, k, Addr{a.node, c.id}.String()); err != nil {
				a.cluster.failed("close key", err)
			}
		}
	}
	u := c.userKey()
	if a.srv.hub.removeUser(u, c) {
		if _, err := a.store.SRem(ctx, userNodesKey(u), a.cluster.self...); err != nil {
			a.cluster.failed("presence", err)
			return
		}
		_, err := a.store.SRem(ctx, a.cluster.usersKey, u)
		a.cluster.failed("presence", err)
	}
}

func (a *App) runCloser(ctx context.Context, name string, cl Client) {
	fn := a.srv.router.closer(name)
	defer func() {
		if p := recover(); p != nil {
			a.srv.log.Error("close controller panicked", "controller", name, "panic", fmt.Sprint(p))
		}
	}()
	fn(ctx, a, cl)
}

// JoinGroup adds a connection to a group (a room or an internal group).
// Joining twice is a no-op.
func (a *App) JoinGroup(ctx context.Context, id ConnID, grp Group) error {
	g := grp.key
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	u := c.userKey()
	var added, first, firstOfUser bool
	if !editHooks(c, func(h *hooks) {
		added, first, firstOfUser = a.srv.hub.join(g, c)
		if added {
			h.list = h.list.with(hookGroup, g)
		}
	}) {
		return ErrConnGone
	}
	if !added {
		return nil
	}
	var users []string
	if firstOfUser {
		users = []string{u}
		if err := a.store.Set(ctx, nickKey(u), c.ident.nickname, nickTTL); err != nil {
			a.cluster.failed("join", err)
			return err
		}
	}
	if first || firstOfUser {
		if err := a.cluster.groupAdded(ctx, g, users); err != nil {
			a.cluster.failed("join", err)
			return err
		}
	}
	return nil
}

// LeaveGroup removes a connection from a group. It also works from a close
// controller, on a connection that is closing.
func (a *App) LeaveGroup(ctx context.Context, id ConnID, grp Group) error {
	g := grp.key
	c, err := a.conn(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.hooks != nil {
		c.hooks.list = c.hooks.list.without(hookGroup, equalTo(g))
	}
	c.mu.Unlock()
	return a.leave(ctx, c, g)
}

func (a *App) leave(ctx context.Context, c *conn, g string) error {
	u := c.userKey()
	removed, last, lastOfUser := a.srv.hub.leave(g, c)
	if !removed {
		return nil
	}
	if lastOfUser {
		if _, err := a.store.SRem(ctx, groupUsersKey(g, a.node), u); err != nil {
			a.cluster.failed("leave", err)
			return err
		}
		if err := a.cluster.userGone(ctx, g, u); err != nil {
			a.cluster.failed("leave", err)
			return err
		}
	}
	if last {
		if _, err := a.store.SRem(ctx, groupNodesKey(g), a.cluster.self...); err != nil {
			a.cluster.failed("leave", err)
			return err
		}
		if _, err := a.store.SRem(ctx, a.cluster.groupsKey, g); err != nil {
			a.cluster.failed("leave", err)
			return err
		}
	}
	return nil
}

// InGroup reports whether a local connection is in group g.
func (a *App) InGroup(id ConnID, g Group) bool {
	c := a.srv.hub.get(id)
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hooks != nil && c.hooks.list.has(hookGroup, equalTo(g.key))
}

// GroupCount returns how many distinct users (type and id) are in group g
// across the cluster: one set's size, whatever the group's size.
func (a *App) GroupCount(ctx context.Context, g Group) (int, error) {
	n, err := a.store.SCard(ctx, groupAllKey(g.key))
	return int(n), err
}

// Member is a user in a group.
type Member struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Type     string `json:"type"`
}

// GroupMembers returns up to limit distinct users of group g across the
// cluster (all when limit <= 0), ordered by type then id.
func (a *App) GroupMembers(ctx context.Context, g Group, limit int) ([]Member, error) {
	users, err := a.store.SMembers(ctx, groupAllKey(g.key))
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
	nicks, err := a.store.MGet(ctx, nk...)
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(users))
	for i, u := range users {
		typ, id, _ := strings.Cut(u, ":")
		out[i] = Member{ID: id, Type: typ, Nickname: nicks[i].Value}
	}
	return out, nil
}

// deliverLocal writes frame to this node's targets of one envelope kind and
// returns how many connections it reached.
func (a *App) deliverLocal(op byte, target string, frame []byte, code uint64) int {
	lp := connLists.Get().(*[]*conn)
	cs := (*lp)[:0]
	h := a.srv.hub
	switch op {
	case opUser, opDisconnect, opJoin, opLeave:
		if id, ok := strings.CutPrefix(target, "*:"); ok {
			for _, t := range userTypes {
				cs = h.userConns(cs, userKey(t, id))
			}
		} else {
			cs = h.userConns(cs, target)
		}
	case opGroup, opCount:
		cs = h.groupConns(cs, target)
	case opAll:
		h.each(func(c *conn) {
			if target == "" || c.ident.id() != target {
				cs = append(cs, c)
			}
		})
	case opConn:
		id, _ := strconv.ParseUint(target, 10, 64)
		if c := h.get(ConnID(id)); c != nil {
			cs = append(cs, c)
		}
	}
	n := 0
	switch {
	case op == opCount:
		n = len(cs)
	case op == opJoin || op == opLeave:
		n = a.roomOp(op, string(frame), cs)
	case op == opDisconnect:
		for _, c := range cs {
			c.closeWith(int(code), "disconnected by the server")
			n++
		}
	case len(cs) <= fanoutInline:
		for _, c := range cs {
			if c.send(frame) == nil {
				n++
			}
		}
	default:
		n = a.fanout(cs, frame)
	}
	clear(cs)
	*lp = cs[:0]
	connLists.Put(lp)
	return n
}

// fanout queues frame on every connection of cs and hands the ones that need
// a write to the flushers; it returns how many took the frame. cs is reused.
func (a *App) fanout(cs []*conn, frame []byte) int {
	n, idle := 0, cs[:0]
	for _, c := range cs {
		needFlush, err := c.queue(frame)
		if err != nil {
			continue
		}
		n++
		if needFlush {
			idle = append(idle, c)
		}
	}
	a.srv.metrics.framesOutN(n, len(frame))
	a.srv.flush.add(idle)
	return n
}

var userTypes = []string{TypeWechatUser, TypeWall, TypeKefu}

// userTarget is the envelope target for a user: "type:id", or "*:id" for
// every type when typ is empty.
func userTarget(typ, id string) string {
	if typ == "" {
		return "*:" + id
	}
	return userKey(typ, id)
}

// userNodes returns the nodes where a user has connections.
func (a *App) userNodes(ctx context.Context, typ, id string) ([]string, error) {
	if typ != "" {
		return a.store.SMembers(ctx, userNodesKey(userKey(typ, id)))
	}
	keys := make([]string, len(userTypes))
	for i, t := range userTypes {
		keys[i] = userNodesKey(userKey(t, id))
	}
	return a.store.SUnion(ctx, keys...)
}

// Target names who a push goes to.
type Target struct {
	// Exactly one of these kinds is set.
	User    string // user id; Type narrows it to one user type
	Type    string
	Group   Group
	All     bool
	Exclude string // with All: a user id to leave out
}

// Push writes f to every connection t names, on every node, and returns how
// many connections it reached. Other nodes' counts are awaited (up to a
// second); use the Send* methods when the count is not needed.
func (a *App) Push(ctx context.Context, t Target, f *Frame) (int, error) {
	return a.push(ctx, t, f.b, opFor(t), 0, true)
}

func opFor(t Target) byte {
	switch {
	case t.All:
		return opAll
	case t.Group != Group{}:
		return opGroup
	default:
		return opUser
	}
}

func (a *App) push(ctx context.Context, t Target, frame []byte, op byte, code uint64, wait bool) (int, error) {
	var target string
	var nodes []string
	var err error
	switch op {
	case opAll:
		target = t.Exclude
		nodes, _, err = a.cluster.liveNodes(ctx)
	case opGroup, opCount:
		target = t.Group.key
		nodes, err = a.store.SMembers(ctx, groupNodesKey(target))
	default:
		target = userTarget(t.Type, t.User)
		nodes, err = a.userNodes(ctx, t.Type, t.User)
	}
	n := a.deliverLocal(op, target, frame, code)
	if err != nil {
		a.srv.metrics.busError()
		return n, fmt.Errorf("framework: find target nodes: %w", err)
	}
	remote := slices.DeleteFunc(nodes, func(x string) bool { return x == a.node })
	if len(remote) == 0 {
		return n, nil
	}
	m, err := a.bus.send(ctx, envelope{op: op, target: target, count: code, frame: frame}, remote, op == opAll, len(remote), wait)
	return n + m, err
}

// SendToGroup pushes f to every connection in group g, on every node.
func (a *App) SendToGroup(ctx context.Context, g Group, f *Frame) error {
	_, err := a.push(ctx, Target{Group: g}, f.b, opGroup, 0, false)
	return err
}

// SendToUser pushes f to every connection of a user (every device, every
// node); an empty typ means every user type with that id.
func (a *App) SendToUser(ctx context.Context, typ, id string, f *Frame) error {
	_, err := a.push(ctx, Target{User: id, Type: typ}, f.b, opUser, 0, false)
	return err
}

// Broadcast pushes f to every connection on every node.
func (a *App) Broadcast(ctx context.Context, f *Frame) error {
	_, err := a.push(ctx, Target{All: true}, f.b, opAll, 0, false)
	return err
}

// SendTo pushes f to one connection anywhere in the cluster.
func (a *App) SendTo(ctx context.Context, to Addr, f *Frame) error {
	if to.Node == a.node {
		return a.Send(to.ID, f)
	}
	_, err := a.bus.send(ctx, envelope{op: opConn, target: strconv.FormatUint(uint64(to.ID), 10), frame: f.b}, []string{to.Node}, false, 1, false)
	return err
}

// DisconnectUser closes every connection of a user, on every node, with code
// (1008 when 0), and returns how many it closed.
func (a *App) DisconnectUser(ctx context.Context, typ, id string, code int) (int, error) {
	if code == 0 {
		code = 1008
	}
	return a.push(ctx, Target{User: id, Type: typ}, nil, opDisconnect, uint64(code), true)
}

// IsOnline reports whether a user has a connection on any node; an empty typ
// means any user type.
func (a *App) IsOnline(ctx context.Context, typ, id string) (bool, error) {
	nodes, err := a.userNodes(ctx, typ, id)
	return len(nodes) > 0, err
}

// UserRef is an online user.
type UserRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// OnlineUsers returns every online user on every live node, each once however
// many devices; typ filters by user type when not empty.
func (a *App) OnlineUsers(ctx context.Context, typ string) ([]UserRef, error) {
	nodes, _, err := a.cluster.liveNodes(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		keys[i] = nodeUsersKey(n)
	}
	us, err := a.store.SUnion(ctx, keys...)
	if err != nil {
		return nil, err
	}
	slices.Sort(us)
	out := []UserRef{}
	for _, u := range us {
		t, id, _ := strings.Cut(u, ":")
		if typ == "" || t == typ {
			out = append(out, UserRef{ID: id, Type: t})
		}
	}
	return out, nil
}

// OnlineCount returns connections and distinct users across live nodes. Other
// nodes' connection counts are as of their last heartbeat (2 s).
func (a *App) OnlineCount(ctx context.Context) (conns, users int, err error) {
	nodes, infos, err := a.cluster.liveNodes(ctx)
	if err != nil {
		return 0, 0, err
	}
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		keys[i] = nodeUsersKey(n)
		conns += infos[i].Conns
	}
	u, err := a.store.SUnionCard(ctx, keys...)
	return conns, int(u), err
}

// NodeStatus is one live node as its liveness key says.
type NodeStatus struct {
	ID          string `json:"id"`
	Connections int    `json:"connections"`
	Started     int64  `json:"started"`
}

// Nodes returns the live nodes of the cluster.
func (a *App) Nodes(ctx context.Context) ([]NodeStatus, error) {
	nodes, infos, err := a.cluster.liveNodes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]NodeStatus, len(nodes))
	for i := range nodes {
		out[i] = NodeStatus{ID: nodes[i], Connections: infos[i].Conns, Started: infos[i].Started}
	}
	slices.SortFunc(out, func(x, y NodeStatus) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// LocalGroups returns how many groups have members on this node.
func (a *App) LocalGroups() int { return len(a.srv.hub.groupSnapshot()) }

// LocalUsers returns how many distinct users are connected to this node.
func (a *App) LocalUsers() int {
	n := 0
	a.srv.hub.users(func(string, int) { n++ })
	return n
}
