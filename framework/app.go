package framework

import (
	"context"
	"slices"
	"time"

	"msgo/framework/cluster"
	"msgo/library/cache"
)

// App is the handle controllers and the manager port use to reach
// connections, users and groups. Every operation that names a user, a group or
// a close key works cluster-wide: local connections are written directly, and
// each other node that has targets gets the frame once over the bus. Methods
// are safe for concurrent use.
//
// Its methods are spread over files by concern: app.go (a connection),
// closehooks.go (close keys and close controllers), groups.go, push.go
// (users, groups, everyone, cluster-wide) and presence.go (who is online).
type App struct {
	srv       *Server
	store     cache.Store
	node      string
	hub       *cluster.Hub[*conn]
	presence  cluster.Presence
	groups    cluster.Groups
	closeKeys cluster.CloseKeys
	routes    cluster.Routes
	space     uint64 // the high bits of this node's connection ids (see cluster.Routes)
	cluster   *cluster.Node
	bus       *cluster.Bus
	stopBg    context.CancelFunc
	bgDone    chan struct{}
}

func newApp(s *Server, store cache.Store) *App {
	node := s.cfg.NodeID
	st := cluster.NewStore(store, node)
	a := &App{
		srv: s, store: store, node: node,
		hub:      cluster.NewHub(func(c *conn) string { return c.Session().ident.key }),
		presence: st, groups: st, closeKeys: st, routes: st,
	}
	a.claimIDSpace()
	a.cluster = cluster.NewNode(cluster.NodeOptions{
		ID: node, Presence: st, Started: s.started, Local: a.local, Conns: s.Connections,
		Logger: s.log, OnError: s.metrics.storeError, OnPurge: s.nodeLost,
	})
	a.bus = cluster.NewBus(st, node, a.deliverLocal, s.log, s.metrics.busError)
	a.bus.OnAsk(s.answerSession)
	return a
}

// start joins the cluster: liveness, purge of dead nodes, and the bus. It
// waits a moment for the bus subscription so pushes right after start are
// not missed, but a store that is down does not stop the node from starting:
// it serves its own connections and catches up when the store is back.
func (a *App) start(ctx context.Context) {
	ctx, a.stopBg = context.WithCancel(ctx)
	a.bgDone = make(chan struct{})
	go func() {
		defer close(a.bgDone)
		done := make(chan struct{})
		go func() { a.bus.Run(ctx); close(done) }()
		a.cluster.Run(ctx)
		<-done
	}()
	select {
	case <-a.bus.Live():
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
	a.cluster.Leave()
}

// local is what this node holds, for the cluster to re-assert.
func (a *App) local() cluster.Local {
	var l cluster.Local
	a.hub.Users(func(k string, _ int) { l.Users = append(l.Users, k) })
	l.Groups = a.hub.Groups()
	a.srv.tr.Each(func(c *conn) {
		c.Edit(func(ss *session, open bool) {
			if ss.hooks == nil || !open && !detached(ss.hooks) {
				return
			}
			addr := Addr{homeOf(ss.hooks, a.node), c.ID()}.String()
			for k := range ss.hooks.list.names(hookCloseKey) {
				l.CloseKeys = append(l.CloseKeys, cluster.KeyMember{Key: k, Member: addr})
			}
			if r := ss.hooks.resume; r != nil && r.home != "" {
				l.Routes = append(l.Routes, addr)
			}
		})
	})
	return l
}

// NodeID returns this node's id.
func (a *App) NodeID() string { return a.node }

// UserTypes returns the user types tokens carry (Config.UserTypes), in a
// new slice.
func (a *App) UserTypes() []string { return slices.Clone(a.srv.cfg.UserTypes) }

// Store returns the shared store, for modules that keep state of their own in it.
func (a *App) Store() cache.Store { return a.store }

// Sync returns once every push that other nodes published to this node
// before the call has been delivered to this node's connections: a module
// that needs one order for pushes made on several nodes (live.message in seq
// order) takes turns through the store and calls Sync at the start of its
// turn, before its own local writes. It fails when the store is unavailable
// or ctx ends first.
func (a *App) Sync(ctx context.Context) error { return a.bus.Sync(ctx) }

func (a *App) conn(id ConnID) (*conn, error) {
	c := a.srv.tr.Conn(id)
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
	return c.Send(f.b)
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
	c.Close(code, reason)
	return nil
}

// claimIDSpace gives this node's connection ids a space of their own in the
// cluster (ids are space<<32 + n), so that a session moving in keeps its
// id. A store down at start leaves space 0: the node then hosts no moving
// session whose id is from space 0.
func (a *App) claimIDSpace() {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.StoreOp)
	defer cancel()
	sp, err := a.routes.IDSpace(ctx)
	if err != nil {
		a.srv.log.Warn("no connection id space from the store; moved sessions cannot keep ids of space 0", "err", err)
		return
	}
	a.space = sp
	a.srv.tr.ReserveIDs(ConnID(sp << 32))
}

// Addr returns a local connection's address in the cluster: the node that
// accepted it and its id, for its whole life, wherever its session moved
// since (App.SendTo follows it).
func (a *App) Addr(id ConnID) (Addr, error) {
	c, err := a.conn(id)
	if err != nil {
		return Addr{}, err
	}
	home := a.node
	c.Edit(func(ss *session, _ bool) { home = homeOf(ss.hooks, a.node) })
	return Addr{home, id}, nil
}
