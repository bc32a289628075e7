package service

import (
	"math/rand/v2"

	"msgo/framework"
	"msgo/library/encrypt"
)

// Winner is one lottery winner, as live.wall.lottery's reply and the
// live.lottery push carry it.
type Winner struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
}

// Draw picks min(count, eligible) distinct winners, uniformly at random and
// in draw order, among the members that are wechatUsers; members are
// distinct users (framework.App.GroupMembers). The result is empty, never
// nil, when nobody is eligible.
func Draw(members []framework.Member, count int) []Winner {
	pool := make([]framework.Member, 0, len(members))
	for _, m := range members {
		if m.Type == encrypt.TypeWechatUser {
			pool = append(pool, m)
		}
	}
	n := max(0, min(count, len(pool)))
	winners := make([]Winner, n)
	for i := range n { // the first n steps of a Fisher-Yates shuffle
		j := i + rand.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
		winners[i] = Winner{ID: pool[i].ID, Nickname: pool[i].Nickname}
	}
	return winners
}
