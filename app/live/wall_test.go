package live_test

import (
	"fmt"
	"slices"
	"testing"

	"gorm.io/gorm"

	"msgo/framework/msgotest"
)

type winner struct{ ID, Nickname string }

func lottery(t *testing.T, w *msgotest.Client, count int) []winner {
	t.Helper()
	r := w.Request(t, "live.wall.lottery", map[string]any{"count": count})
	if r.Status != 200 {
		t.Fatalf("lottery %d: %d %s", count, r.Status, r.Info)
	}
	var p struct{ Winners []winner }
	r.Decode(t, &p)
	if p.Winners == nil {
		t.Fatalf("lottery %d: winners %s, want an array", count, r.Param)
	}
	return p.Winners
}

// The lottery draws distinct, joined, online wechatUsers of the room on
// any node, and its push reaches the whole room and no one else.
func TestLottery(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, _ *gorm.DB) {
		const room = "lucky"
		w1 := on(t, nodes, 0, wall("w1", room))
		w2 := on(t, nodes, 1, wall("w2", room))
		members := []*msgotest.Client{w1, w2}
		eligible := map[string]bool{}
		for i := range 5 {
			id := fmt.Sprintf("u%d", i)
			members = append(members, on(t, nodes, i, user(id, room)))
			eligible[id] = true
		}
		members = append(members, on(t, nodes, 2, user("u0", room))) // u0's second device
		for _, cl := range members {
			join(t, cl)
		}
		on(t, nodes, 0, user("never-joined", room))
		left := on(t, nodes, 1, user("left", room))
		join(t, left)
		left.Request(t, "live.user.leave", nil)
		gone := on(t, nodes, 2, user("gone", room))
		join(t, gone)
		gone.Close()
		w1.Await(t, "live.user.leave")
		w1.Await(t, "live.user.leave")
		outsider := on(t, nodes, 0, user("x", "elsewhere"))
		join(t, outsider)

		for _, count := range []int{1, 3, 5, 100} {
			got := lottery(t, w1, count)
			if len(got) != min(count, len(eligible)) {
				t.Fatalf("count %d: %d winners %v", count, len(got), got)
			}
			seen := map[string]bool{}
			for _, x := range got {
				if !eligible[x.ID] || seen[x.ID] || x.Nickname != "昵称-"+x.ID {
					t.Fatalf("count %d: winners %v: not distinct joined online wechatUsers", count, got)
				}
				seen[x.ID] = true
			}
			for i, cl := range members {
				var p struct{ Winners []winner }
				cl.Await(t, "live.lottery").Decode(t, &p)
				if !slices.Equal(p.Winners, got) {
					t.Errorf("member %d: push %v, reply %v", i, p.Winners, got)
				}
			}
		}
		msgotest.NoPush(t, quiet, "live.lottery", "outsider", outsider)

		// Over many draws every eligible user wins sometimes.
		won := map[string]bool{}
		for range 40 {
			won[lottery(t, w2, 1)[0].ID] = true
		}
		if len(won) < 2 {
			t.Errorf("40 single draws always picked %v", won)
		}

		empty := on(t, nodes, 1, wall("w3", "empty"))
		join(t, empty)
		if got := lottery(t, empty, 3); len(got) != 0 {
			t.Errorf("a room without wechatUsers drew %v", got)
		}
		if p := empty.Await(t, "live.lottery"); jsonString(p.Param) != `{"winners":[]}` {
			t.Errorf("empty draw push: %s", p.Param)
		}
	})
}
