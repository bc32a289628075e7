package service

import (
	"testing"
	"time"
)

func TestCountEveryGrowsWithTheRoom(t *testing.T) {
	for _, c := range []struct {
		members int
		want    time.Duration
	}{
		{0, CountEvery},
		{1, CountEvery},
		{CountBudget, CountEvery},
		{CountBudget + 1, 2 * CountEvery},
		{3 * CountBudget, 3 * CountEvery},
		{20000, 4 * CountEvery},
		{95000, MaxCountEvery},
	} {
		if got := countEvery(c.members, CountBudget); got != c.want {
			t.Errorf("countEvery(%d) = %v, want %v", c.members, got, c.want)
		}
	}
}
