package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"msgo/framework"
	"msgo/library/cache"
)

// EventRoomCount is the push telling a room's members how many are online.
const EventRoomCount = "live.room.count"

// CountEvery is the least time between two live.room.count pushes to a room.
const CountEvery = time.Second

// CountBudget is about how many live.room.count frames one room's pushes
// may cost a second, cluster-wide: a room larger than this gets its count
// less often (every 2 s from 5,001 members, every 4 s from 15,001, every
// MaxCountEvery at most), so a room of 95,000 filling up does not spend
// the nodes' write capacity on 95,000 counts a second.
const CountBudget = 5000

// MaxCountEvery is the longest time between two counts of a changing room.
const MaxCountEvery = 10 * time.Second

// countEvery is the least time between two count pushes to a room of
// members: CountEvery per budget members begun.
func countEvery(members, budget int) time.Duration {
	n := max(1, (members+budget-1)/budget)
	return min(time.Duration(n)*CountEvery, MaxCountEvery)
}

// countOp bounds one tick's store calls and push.
const countOp = 2 * time.Second

// CountHub is what Counts needs of the framework: *framework.App.
type CountHub interface {
	Store() cache.Store
	NodeID() string
	GroupCounter
	SendToGroup(ctx context.Context, g framework.Group, f *framework.Frame) error
}

var _ CountHub = (*framework.App)(nil)

// WallsGroup is the framework group of a room's wall connections (the wall
// screens and the moderator pages): join and leave pushes and held messages
// go to it, and its count tells guests from walls.
func WallsGroup(room string) framework.Group { return framework.InternalGroup("live.walls:" + room) }

// RoomCounts is how many are in a room: Online counts distinct users, walls
// included; Guests only the users who are not walls. Replies and pushes that
// carry online embed it.
type RoomCounts struct {
	Online int `json:"online"`
	Guests int `json:"guests"`
}

// GroupCounter counts a group's distinct users cluster-wide.
type GroupCounter interface {
	GroupCount(ctx context.Context, g framework.Group) (int, error)
}

// CountRoom counts room cluster-wide. Walls are distinct users of their own
// type, so the guests are the users who are not walls.
func CountRoom(ctx context.Context, hub GroupCounter, room string) (RoomCounts, error) {
	online, err := hub.GroupCount(ctx, framework.Room(room))
	if err != nil {
		return RoomCounts{}, err
	}
	walls, err := hub.GroupCount(ctx, WallsGroup(room))
	if err != nil {
		return RoomCounts{}, err
	}
	// Two reads: a wall joining between them must not make guests negative.
	return RoomCounts{Online: online, Guests: max(0, online-walls)}, nil
}

// Counts pushes live.room.count {"online","guests"} to every member of a room at
// most once per CountEvery while the room's count changes, so a room of N
// filling up costs one push per member per second instead of a push per
// member per join; rooms above CountBudget members get it less often
// (countEvery).
//
// A room with changes on this node has one timer. When it fires, the node
// takes the room's count lease (RoomCountKey, SetNX for just under
// CountEvery), counts the room once and pushes the count to the whole room
// through the cluster: each node writes it to its own members. A node that
// finds the lease taken (another node pushed this second) tries again at
// its next tick, so the last change is always pushed and no member gets
// two counts in one second.
type Counts struct {
	log    *slog.Logger
	budget int // count frames a room may cost a second

	mu      sync.Mutex
	rooms   map[string]*roomCount
	stopped bool
}

// roomCount is a room with changes: its timer, and whether a change came
// after the last push.
type roomCount struct {
	timer *time.Timer
	dirty bool
}

// NewCounts returns an idle Counts whose rooms' counts cost about budget
// frames a second at most (zero: CountBudget); Close stops its timers.
func NewCounts(log *slog.Logger, budget int) *Counts {
	if budget <= 0 {
		budget = CountBudget
	}
	return &Counts{log: log, budget: budget, rooms: make(map[string]*roomCount)}
}

// RoomCountKey is the lease of a room's count push: held by the node that
// pushed the room's count this second.
func RoomCountKey(room string) string { return "live:count:" + room }

// Changed records that room's count may have changed on this node.
func (c *Counts) Changed(hub CountHub, room string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	if rc := c.rooms[room]; rc != nil {
		rc.dirty = true
		return
	}
	rc := &roomCount{dirty: true}
	rc.timer = time.AfterFunc(CountEvery, func() { c.tick(hub, room, rc) })
	c.rooms[room] = rc
}

// tick pushes room's count if it changed and this node may push it this
// second; the timer runs again while there is something to push, and the
// room is forgotten once a tick finds nothing new.
func (c *Counts) tick(hub CountHub, room string, rc *roomCount) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	if !rc.dirty {
		delete(c.rooms, room)
		c.mu.Unlock()
		return
	}
	rc.dirty = false
	c.mu.Unlock()

	every, pushed := c.push(hub, room)
	c.mu.Lock()
	if !pushed {
		rc.dirty = true
	}
	if !c.stopped {
		// Armed after the lease was taken and a little over its TTL, so
		// this node's own next tick finds its lease gone.
		rc.timer.Reset(every + every/50)
	}
	c.mu.Unlock()
}

// push counts room and sends the count to its members cluster-wide. It
// reports false when the push must be tried again: another node holds this
// second's lease, or the store failed; and when to tick next.
func (c *Counts) push(hub CountHub, room string) (time.Duration, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), countOp)
	defer cancel()
	ok, err := hub.Store().SetNX(ctx, RoomCountKey(room), hub.NodeID(), CountEvery)
	if err != nil || !ok {
		if err != nil {
			c.log.Warn("live: room count lease", "room", room, "err", err)
		}
		return CountEvery, false
	}
	n, err := CountRoom(ctx, hub, room)
	if err != nil {
		c.log.Warn("live: count room", "room", room, "err", err)
		return CountEvery, false
	}
	every := countEvery(n.Online, c.budget)
	if every > CountEvery {
		// A large room: this node keeps the lease for the longer interval,
		// so no other node pushes its count meanwhile.
		if err := hub.Store().Set(ctx, RoomCountKey(room), hub.NodeID(), every); err != nil {
			c.log.Warn("live: room count lease", "room", room, "err", err)
		}
	}
	f, err := framework.Push(EventRoomCount, n)
	if err == nil {
		err = hub.SendToGroup(ctx, framework.Room(room), f)
	}
	if err != nil {
		c.log.Warn("live: push "+EventRoomCount, "room", room, "err", err)
	}
	return every, true
}

// Close stops every timer; a tick already running finishes its push.
func (c *Counts) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for room, rc := range c.rooms {
		rc.timer.Stop()
		delete(c.rooms, room)
	}
}
