package live_test

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/live"
	"msgo/app/live/service"
	"msgo/framework/msgotest"
)

type presenceParam struct {
	ID, Nickname, Type string
	Online, Guests     int
}

func awaitPresence(t *testing.T, cl *msgotest.Client, event string) presenceParam {
	t.Helper()
	var p presenceParam
	cl.Await(t, event).Decode(t, &p)
	return p
}

// Join answers {room, online} and pushes live.user.join to the room's
// walls only, the joiner included if it is a wall; online counts distinct
// users cluster-wide, walls included; leave and disconnect push
// live.user.leave to the walls exactly once per connection. Guests learn
// the count from live.room.count.
func TestJoinLeaveAndDisconnect(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room = "presence"
		w := on(t, nodes, 0, wall("w1", room))
		r := w.Request(t, "live.user.join", nil)
		if r.Status != 200 || jsonString(r.Param) != `{"room":"presence","online":1,"guests":0}` {
			t.Fatalf("join reply: %d %s", r.Status, r.Param)
		}
		if p := awaitPresence(t, w, "live.user.join"); p != (presenceParam{"w1", "wall-w1", "wall", 1, 0}) {
			t.Errorf("joiner's own push: %+v", p)
		}

		u1 := on(t, nodes, 1, user("u1", room))
		if n := join(t, u1); n != 2 {
			t.Errorf("online after u1 joined: %d, want 2", n)
		}
		if p := awaitPresence(t, w, "live.user.join"); p != (presenceParam{"u1", "昵称-u1", "wechatUser", 2, 1}) {
			t.Errorf("wall saw u1 join as %+v", p)
		}
		// u1's second device, on another node: a second join push to the
		// wall, the same online count.
		u1b := on(t, nodes, 2, user("u1", room))
		if n := join(t, u1b); n != 2 {
			t.Errorf("online after u1's second device joined: %d, want 2", n)
		}
		if p := awaitPresence(t, w, "live.user.join"); p.ID != "u1" || p.Online != 2 {
			t.Errorf("u1's second device's join seen as %+v", p)
		}
		// Joining again changes nothing and pushes nothing.
		if n := join(t, u1b); n != 2 {
			t.Errorf("second join of one connection: online %d", n)
		}
		// Guests never see who joined: they get the count.
		msgotest.NoPush(t, quiet, "live.user.join", "member", w, u1, u1b)
		for _, cl := range []*msgotest.Client{w, u1, u1b} {
			awaitCount(t, cl, 2)
		}

		// Explicit leave of one device: pushed to the wall only.
		r = u1b.Request(t, "live.user.leave", nil)
		if r.Status != 200 || jsonString(r.Param) != `{"room":"presence","online":2,"guests":1}` {
			t.Fatalf("leave reply: %d %s", r.Status, r.Param)
		}
		if p := awaitPresence(t, w, "live.user.leave"); p != (presenceParam{"u1", "昵称-u1", "wechatUser", 2, 1}) {
			t.Errorf("leave push: %+v", p)
		}
		msgotest.NoPush(t, quiet, "live.user.leave", "guest", u1, u1b)
		expect(t, "leave twice", u1b.Request(t, "live.user.leave", nil), 403)
		expect(t, "send after leaving", u1b.Request(t, "live.message.send", map[string]any{"content": "x"}), 403)
		u1b.Close() // left already: its disconnect pushes nothing

		// Disconnect of u1's last device counts as leaving, once.
		u1.Close()
		if p := awaitPresence(t, w, "live.user.leave"); p != (presenceParam{"u1", "昵称-u1", "wechatUser", 1, 0}) {
			t.Errorf("disconnect push: %+v", p)
		}
		msgotest.NoPush(t, quiet, "live.user.leave", "wall", w)
		awaitCount(t, w, 1)
		if r := w.Request(t, "live.room.online", nil); jsonString(r.Param) != `{"online":1,"guests":0,"users":[{"id":"w1","nickname":"wall-w1","type":"wall"}]}` {
			t.Errorf("online after everyone left: %s", r.Param)
		}
	})
}

// awaitCount waits for live.room.count pushes on cl until one says online.
func awaitCount(t *testing.T, cl *msgotest.Client, online int) {
	t.Helper()
	for {
		r, err := cl.Next(3*service.CountEvery, msgotest.IsPush(service.EventRoomCount))
		if err != nil {
			t.Fatalf("live.room.count with online %d: %v", online, err)
		}
		var p struct{ Online int }
		r.Decode(t, &p)
		if p.Online == online {
			return
		}
	}
}

// A room filling up pushes live.room.count to every member at most once a
// second, and the last push carries the final count, whichever node the
// joins came through.
func TestRoomCountCoalesced(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room, guests = "filling", 30
		watcher := on(t, nodes, 0, user("watcher", room))
		join(t, watcher)
		start := time.Now()
		var cls []*msgotest.Client
		for i := range guests {
			cl := on(t, nodes, i, user(fmt.Sprintf("g%02d", i), room))
			join(t, cl)
			cls = append(cls, cl)
		}
		pushes := 0
		for {
			r, err := watcher.Next(3*service.CountEvery, msgotest.IsPush(service.EventRoomCount))
			if err != nil {
				t.Fatalf("watcher: live.room.count with online %d after %d pushes: %v", guests+1, pushes, err)
			}
			pushes++
			var p struct{ Online int }
			r.Decode(t, &p)
			if p.Online == guests+1 {
				break
			}
		}
		// A join counted by one tick may still mark the room changed for
		// the next: one more push with the same count is allowed.
		time.Sleep(2 * service.CountEvery)
		for _, f := range watcher.Frames() {
			if f.Event == service.EventRoomCount {
				pushes++
			}
		}
		if max := int(time.Since(start)/service.CountEvery) + 1; pushes > max {
			t.Errorf("%d live.room.count pushes in %v, want at most one a second (%d)", pushes, time.Since(start), max)
		}
		awaitCount(t, cls[guests-1], guests+1)
		msgotest.NoPush(t, quiet, "live.user.join", "guest", cls[0], watcher)
	})
}

// A room larger than the count budget gets live.room.count less often: with
// a budget of 2, a count of 3 or 4 is followed by the next one 2 s later at
// the earliest, of 5 or 6 by 3 s; and the last count still arrives.
func TestRoomCountSlowsInLargeRooms(t *testing.T) {
	eachSetupWith(t, live.Options{CountBudget: 2}, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room, guests = "large", 6
		watcher := on(t, nodes, 0, user("watcher", room))
		join(t, watcher)
		cls := make([]*msgotest.Client, guests)
		for i := range cls {
			cls[i] = on(t, nodes, i, user(fmt.Sprintf("g%02d", i), room))
		}
		go func() {
			for _, cl := range cls {
				if err := cl.TryWrite([]byte(`{"method":"live.user.join"}`)); err != nil {
					t.Errorf("join: %v", err)
				}
				time.Sleep(400 * time.Millisecond) // the joins span several ticks
			}
		}()
		var last time.Time
		lastOnline := 0
		for lastOnline < guests+1 {
			r, err := watcher.Next(5*service.CountEvery, msgotest.IsPush(service.EventRoomCount))
			if err != nil {
				t.Fatalf("watcher: live.room.count after online %d: %v", lastOnline, err)
			}
			now := time.Now()
			if want := time.Duration((lastOnline+1)/2) * service.CountEvery; !last.IsZero() && now.Sub(last) < want-200*time.Millisecond {
				t.Errorf("a count of %d was followed by the next %v later, want at least %v", lastOnline, now.Sub(last), want)
			}
			var p struct{ Online int }
			r.Decode(t, &p)
			last, lastOnline = now, p.Online
		}
		awaitCount(t, cls[guests-1], guests+1)
	})
}
