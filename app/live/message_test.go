package live_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"msgo/app/apptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/live"
	"msgo/app/live/service"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/cache/cachetest"
	"msgo/library/db/dbtest"
)

// Two walls and fifty users, spread over the nodes, send at once: every
// member receives every message once, in seq order, with no gaps; the
// replies' seqs are exactly 1..n; history holds the same messages; members
// of another room receive nothing.
func TestMessagesReachEveryMemberInSeqOrder(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room, users, perUser = "r1", 50, 4
		var members, senders []*msgotest.Client
		for i := range 2 {
			members = append(members, on(t, nodes, i, wall(fmt.Sprintf("w%d", i), room)))
		}
		for i := range users {
			cl := on(t, nodes, i, user(fmt.Sprintf("u%02d", i), room))
			members = append(members, cl)
			senders = append(senders, cl)
		}
		for _, cl := range members {
			join(t, cl)
		}
		var outsiders []*msgotest.Client
		for i := range 3 {
			cl := on(t, nodes, i, user(fmt.Sprintf("x%d", i), "r2"))
			join(t, cl)
			outsiders = append(outsiders, cl)
		}
		for i, cl := range members[:len(nodes)] { // every node sees the whole room
			r := cl.Request(t, "live.room.online", nil)
			var p struct{ Online int }
			r.Decode(t, &p)
			if p.Online != users+2 {
				t.Errorf("node %d: online %d, want %d", i, p.Online, users+2)
			}
		}

		var wg sync.WaitGroup
		var mu sync.Mutex
		var replySeqs []int64
		sent := map[string]string{} // content -> sender id
		for i, cl := range senders {
			wg.Go(func() {
				for k := range perUser {
					content := fmt.Sprintf(`u%02d #%d <b>"quoted"</b> 😀`, i, k)
					r, err := request(t, cl, "live.message.send", map[string]any{"content": content})
					if err != nil || r.Status != 200 {
						t.Errorf("u%02d send %d: %v %+v", i, k, err, r)
						return
					}
					var p struct{ Seq int64 }
					if err := jsonUnmarshal(r.Param, &p); err != nil {
						t.Error(err)
					}
					mu.Lock()
					replySeqs = append(replySeqs, p.Seq)
					sent[content] = fmt.Sprintf("u%02d", i)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		total := users * perUser
		slices.Sort(replySeqs)
		for i, s := range replySeqs {
			if s != int64(i+1) {
				t.Fatalf("reply seqs are not 1..%d: %v", total, replySeqs)
			}
		}

		var first []pushed
		for i, cl := range members {
			got := messages(t, cl, total)
			for k, m := range got {
				if m.Seq != int64(k+1) {
					t.Fatalf("member %d: push %d has seq %d, want %d (order %v)", i, k, m.Seq, k+1, seqsOf(got))
				}
			}
			if i == 0 {
				first = got
			} else if jsonString(got) != jsonString(first) {
				t.Fatalf("member %d received other messages than member 0", i)
			}
		}
		for _, m := range first {
			if sent[m.Content] != m.ID || m.Nickname != "昵称-"+m.ID || m.Time == 0 {
				t.Fatalf("push %+v does not match what %s sent", m, sent[m.Content])
			}
		}
		msgotest.NoPush(t, quiet, "live.message", "member", members...)
		msgotest.NoPush(t, quiet, "live.message", "outsider", outsiders...)

		var stored []pushed
		for after := int64(0); ; {
			page := history(t, members[1], map[string]any{"after_seq": after, "limit": 100})
			if len(page) == 0 {
				break
			}
			stored = append(stored, page...)
			after = page[len(page)-1].Seq
		}
		if jsonString(stored) != jsonString(first) {
			t.Fatalf("history differs from the pushes:\n%s\n%s", jsonString(stored), jsonString(first))
		}
		if h := history(t, outsiders[0], nil); len(h) != 0 {
			t.Errorf("room r2 has history %v", seqsOf(h))
		}
	})
}

// A wall that was away fills its gap with history after reconnecting, on
// another node.
func TestHistoryFillsGapAfterReconnect(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room = "gap"
		w := on(t, nodes, 0, wall("w1", room))
		u := on(t, nodes, 1, user("u1", room))
		join(t, w)
		join(t, u)
		for i := range 3 {
			send(t, u, fmt.Sprintf("before %d", i))
		}
		seen := messages(t, w, 3)
		last := seen[len(seen)-1].Seq
		w.Close()
		for i := range 5 {
			send(t, u, fmt.Sprintf("while away %d", i))
		}

		w = on(t, nodes, 2, wall("w1", room))
		join(t, w)
		missed := history(t, w, map[string]any{"after_seq": last})
		if fmt.Sprint(seqsOf(missed)) != "[4 5 6 7 8]" || missed[0].Content != "while away 0" {
			t.Fatalf("history after %d: %+v", last, missed)
		}
		if page := history(t, w, map[string]any{"after_seq": last, "limit": 2}); fmt.Sprint(seqsOf(page)) != "[4 5]" {
			t.Errorf("limit 2: %v", seqsOf(page))
		}
		if all := history(t, w, nil); fmt.Sprint(seqsOf(all)) != "[1 2 3 4 5 6 7 8]" {
			t.Errorf("default history: %v", seqsOf(all))
		}
		if none := history(t, w, map[string]any{"after_seq": 8}); len(none) != 0 {
			t.Errorf("after the last seq: %v", seqsOf(none))
		}
		send(t, u, "after")
		if m := messages(t, w, 1); m[0].Seq != 9 {
			t.Errorf("next push has seq %d, want 9", m[0].Seq)
		}
	})
}

// Content is stored and pushed verbatim, whatever it holds.
func TestContentVerbatim(t *testing.T) {
	contents := []string{
		"<script>alert('x')</script><b>&amp;</b>",
		`quotes ' " \ and \n escapes`,
		"emoji 😀🎉👨‍👩‍👧 and 中文",
		"'); DROP TABLE live_message; --",
		"  spaces around  ",
		"line\nbreak\ttab",
		strings.Repeat("😀", 500),
	}
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		nodes := startNodes(t, migrated(t, gdb), 1)
		u := on(t, nodes, 0, user("u1", "verbatim"))
		join(t, u)
		for _, c := range contents {
			send(t, u, c)
		}
		got := messages(t, u, len(contents))
		stored := history(t, u, nil)
		for i, c := range contents {
			if got[i].Content != c || stored[i].Content != c {
				t.Errorf("content %q came back as %q (push) and %q (history)", c, got[i].Content, stored[i].Content)
			}
		}
	})
}

// With the database out of reach, send and history answer 503 and nothing
// is pushed; join and the rest, which need only the store, still work.
func TestDatabaseUnavailable(t *testing.T) {
	check := func(t *testing.T, nodes []*msgotest.Server) {
		u := on(t, nodes, 0, user("u1", "down"))
		w := on(t, nodes, len(nodes)-1, wall("w1", "down"))
		join(t, u)
		join(t, w)
		expect(t, "send", u.Request(t, "live.message.send", map[string]any{"content": "lost"}), 503)
		expect(t, "history", w.Request(t, "live.message.history", nil), 503)
		msgotest.NoPush(t, quiet, "live.message", "wall or sender", w, u)
		expect(t, "online", w.Request(t, "live.room.online", nil), 200)
	}
	apptest.DatabaseDown(t, live.Models(), startNodes, check)
}

// seq continues from the stored maximum after a restart that lost the
// store, resyncs when the counter is behind the table, and leaves no gap
// when an insert fails.
func TestSeqContinuesAndHasNoGaps(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		migrated(t, gdb)
		var fail atomic.Bool
		err := gdb.Callback().Create().Before("gorm:create").Register("test:fail", func(tx *gorm.DB) {
			if fail.Load() {
				tx.AddError(fmt.Errorf("injected outage: %w", driver.ErrBadConn))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		const room = "restart"
		a := startNode(t, gdb, nil, "a")
		u := a.Dial(t, user("u1", room))
		join(t, u)
		for i := range 3 {
			send(t, u, fmt.Sprint(i))
		}
		a.Stop()

		b := startNode(t, gdb, nil, "b") // a fresh memory store: the counter is gone
		u = b.Dial(t, user("u1", room))
		join(t, u)
		if seq := send(t, u, "after restart"); seq != 4 {
			t.Fatalf("after a restart seq %d, want 4", seq)
		}
		if err := b.Store.Set(context.Background(), service.SeqKey(room), "1", 0); err != nil {
			t.Fatal(err)
		}
		if seq := send(t, u, "counter behind"); seq != 5 {
			t.Fatalf("with the counter behind seq %d, want 5", seq)
		}
		messages(t, u, 2)

		fail.Store(true)
		for range 3 {
			expect(t, "send during outage", u.Request(t, "live.message.send", map[string]any{"content": "lost"}), 503)
		}
		msgotest.NoPush(t, quiet, "live.message", "sender", u)
		fail.Store(false)
		if seq := send(t, u, "after outage"); seq != 6 {
			t.Fatalf("after failed inserts seq %d, want 6: a failed insert left a gap", seq)
		}
		if h := history(t, u, nil); fmt.Sprint(seqsOf(h)) != "[1 2 3 4 5 6]" {
			t.Fatalf("history %v", seqsOf(h))
		}
	})
}

// A node that died holding a room's turn blocks the room until its lease
// expires; a send that cannot get the turn in time answers 503 and is not
// stored.
func TestDeadTurnHolder(t *testing.T) {
	gdb := migrated(t, dbtest.SQLite(t))
	srv := startNodeWith(t, nil, "n", live.Options{DB: gdb, Messages: service.Options{TurnTimeout: 500 * time.Millisecond}})
	u := srv.Dial(t, user("u1", "held"))
	join(t, u)
	ctx := context.Background()
	if _, err := srv.Store.SetNX(ctx, service.TurnKey("held"), "a dead node", time.Hour); err != nil {
		t.Fatal(err)
	}
	expect(t, "send while the turn is held", u.Request(t, "live.message.send", map[string]any{"content": "x"}), 503)
	if err := srv.Store.Set(ctx, service.TurnKey("held"), "a dead node", time.Second); err != nil {
		t.Fatal(err) // the lease now expires in a second
	}
	if seq := sendOnceBack(t, u, "y"); seq != 1 {
		t.Errorf("seq %d, want 1: the refused send must not have been stored", seq)
	}
}

// With Redis down, what needs it answers 503 and nothing is pushed or
// stored; when Redis comes back empty, seq continues from the table.
func TestStoreUnavailable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		redisSrv := cachetest.StartRedis(t)
		store, err := cache.NewRedis(cache.RedisOptions{Addr: redisSrv.Addr(), DialTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		srv := startNode(t, migrated(t, gdb), store, "r")
		u := srv.Dial(t, user("u1", "outage"))
		w := srv.Dial(t, wall("w1", "outage"))
		join(t, u)
		join(t, w)
		for i := range 3 {
			send(t, u, fmt.Sprint(i))
		}
		messages(t, w, 3)
		messages(t, u, 3)

		redisSrv.Stop()
		late := srv.Dial(t, user("u2", "outage"))
		for _, c := range []struct {
			cl     *msgotest.Client
			method string
			params map[string]any
		}{
			{u, "live.message.send", map[string]any{"content": "lost"}},
			{late, "live.user.join", nil},
			{w, "live.room.online", nil},
			{w, "live.wall.lottery", map[string]any{"count": 1}},
		} {
			expect(t, c.method+" with Redis down", c.cl.Request(t, c.method, c.params), 503)
		}
		expect(t, "history needs only the database", w.Request(t, "live.message.history", nil), 200)
		msgotest.NoPush(t, quiet, "live.message", "member", u, w)

		redisSrv.Start() // empty: the counter and the turn lease are gone
		if seq := sendOnceBack(t, u, "back"); seq != 4 {
			t.Fatalf("seq %d after Redis lost its keys, want 4", seq)
		}
		if h := history(t, w, nil); fmt.Sprint(seqsOf(h)) != "[1 2 3 4]" {
			t.Fatalf("history %v", seqsOf(h))
		}
	})
}

// sendOnceBack sends content until a dependency that was down is back:
// 503 means "try again", anything but 200 fails. It returns the seq.
func sendOnceBack(t *testing.T, cl *msgotest.Client, content string) int64 {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		r := cl.Request(t, "live.message.send", map[string]any{"content": content})
		switch {
		case r.Status == 200:
			var p struct{ Seq int64 }
			r.Decode(t, &p)
			return p.Seq
		case r.Status != 503 || time.Now().After(deadline):
			t.Fatalf("send after the outage: %d %s", r.Status, r.Info)
		}
	}
}
