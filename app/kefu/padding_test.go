package kefu_test

import (
	"testing"

	"gorm.io/gorm"

	"msgo/framework/msgotest"
)

// A token whose id is another user's openid plus a trailing space reads
// nothing of that user's conversation: ids compare byte for byte on MariaDB
// as on SQLite.
func TestTrailingSpaceIDReadsNoOneElsesChat(t *testing.T) {
	eachSetup(t, func(t *testing.T, nodes []*msgotest.Server, gdb *gorm.DB) {
		victim := on(t, nodes, 0, user("victim"))
		send(t, victim, "", "my address is 1 Main St")
		send(t, on(t, nodes, 1, agent("a1")), "victim", "noted")
		for i, id := range []string{"victim ", "victim\t", "Victim"} {
			spy := on(t, nodes, i+1, user(id))
			if ms := history(t, spy, nil); len(ms) != 0 {
				t.Errorf("%q read %d of victim's messages: %+v", id, len(ms), ms)
			}
			var unread struct{ Unread int }
			call(t, spy, "kefu.chat.unread", nil, &unread)
			if unread.Unread != 0 {
				t.Errorf("%q has %d unread, want 0", id, unread.Unread)
			}
		}
	})
}
