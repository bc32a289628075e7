package kefu_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/kefu"
	"msgo/app/kefu/model"
	"msgo/framework/msgotest"
	"msgo/library/db/dbtest"
)

// A graceful stop while users keep sending answers every message it stored:
// 50 users send kefu.chat.send every 10 ms, the node stops mid-stream, and
// the acknowledgements the clients received equal the rows stored. Before
// the stop waited for its handlers, the close frame overtook the replies of
// messages still committing.
func TestStopAcknowledgesEveryStoredMessage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		node := startNode(t, kefu.Options{DB: migrated(t, gdb)}, nil, "kefu1")
		const users = 50
		clients := make([]*msgotest.Client, users)
		for i := range clients {
			clients[i] = node.Dial(t, user(fmt.Sprintf("stop%02d", i)))
		}
		quit := make(chan struct{})
		var wg sync.WaitGroup
		for _, cl := range clients {
			wg.Go(func() {
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				for n := 1; n <= 1000; n++ { // bounded: 10 s at most
					select {
					case <-quit:
						return
					case <-tick.C:
					}
					if cl.TryWrite(fmt.Appendf(nil, `{"method":"kefu.chat.send","id":%d,"msg":"m%d"}`, n, n)) != nil {
						return
					}
				}
			})
		}
		time.Sleep(500 * time.Millisecond)
		node.Stop()
		close(quit)
		wg.Wait()

		acked := 0
		for i, cl := range clients {
			if c := cl.AwaitClose(t); c.Code != 1001 {
				t.Errorf("client %d closed with %d, want 1001", i, c.Code)
			}
			for _, r := range cl.Frames() {
				if r.Event == "kefu.chat.send" && len(r.ID) > 0 {
					if r.Status != 200 {
						t.Errorf("client %d: reply %s: %d %s", i, r.ID, r.Status, r.Info)
						continue
					}
					acked++
				}
			}
		}
		var stored int64
		if err := gdb.Model(&model.Message{}).Count(&stored).Error; err != nil {
			t.Fatal(err)
		}
		t.Logf("%d acknowledged, %d stored", acked, stored)
		if stored == 0 || int64(acked) != stored {
			t.Errorf("%d messages acknowledged, %d stored: every stored message must be acknowledged", acked, stored)
		}
	})
}
