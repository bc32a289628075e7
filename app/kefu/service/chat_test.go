package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/app/kefu/service"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/db"
	"msgo/library/db/dbtest"
	"msgo/library/encrypt"
)

func newChat(t *testing.T, gdb *gorm.DB, o service.Options) (*service.Chat, *model.Store, *msgotest.Server) {
	t.Helper()
	if err := db.Migrate(t.Context(), gdb, model.Models()...); err != nil {
		t.Fatal(err)
	}
	store := model.NewStore(gdb)
	chat := service.NewChat(store, o)
	t.Cleanup(chat.Close)
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{func(r *framework.Router) { r.OnConnect(chat.Connect) }}})
	return chat, store, srv
}

// Messages sent at once share transactions, yet each gets its own id and
// its push, each sender's in the order sent; a message the database
// refuses fails alone.
func TestSendConcurrently(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		chat, store, srv := newChat(t, gdb, service.Options{MaxBatch: 16})
		agent := srv.Dial(t, framework.Identity{ID: "k1", Type: encrypt.TypeKefu})
		const senders, each = 40, 10
		var mu sync.Mutex
		ids := map[int64]bool{}
		var wg sync.WaitGroup
		for s := range senders {
			wg.Go(func() {
				var last int64
				for i := range each {
					m := &model.Message{OpenID: fmt.Sprint("o", s), Type: model.TypeUserToAgent, Msg: fmt.Sprint(s, "-", i)}
					if i == 5 && s%4 == 0 {
						m.Type = 9 // refused by the store
					}
					err := chat.Send(t.Context(), srv.App(), m)
					if m.Type == 9 {
						if err == nil || errors.Is(err, db.ErrUnavailable) || m.ID != 0 {
							t.Errorf("a bad message: %v, id %d; want a plain error, no id", err, m.ID)
						}
						continue
					}
					if err != nil || m.ID <= last {
						t.Errorf("sender %d message %d: id %d after %d, %v", s, i, m.ID, last, err)
					}
					last = m.ID
					mu.Lock()
					ids[m.ID] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		want := senders*each - senders/4
		if len(ids) != want {
			t.Fatalf("%d distinct ids, want %d", len(ids), want)
		}
		for range want {
			r := agent.Await(t, service.MessageEvent)
			var m model.Message
			r.Decode(t, &m)
			if !ids[m.ID] {
				t.Fatalf("pushed %+v: not one of the stored ids, or twice", m)
			}
			delete(ids, m.ID)
		}
		got, err := store.History(t.Context(), "o0", 0, 100)
		if err != nil || len(got) != each-1 {
			t.Errorf("o0 has %d messages (%v), want %d", len(got), err, each-1)
		}
	})
}

func TestSendGivesUpAndCloses(t *testing.T) {
	chat, store, srv := newChat(t, dbtest.SQLite(t), service.Options{})
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	m := &model.Message{OpenID: "o1", Type: model.TypeUserToAgent, Msg: "too late"}
	if err := chat.Send(ctx, srv.App(), m); !errors.Is(err, db.ErrUnavailable) {
		t.Errorf("past its deadline: %v, want db.ErrUnavailable (503)", err)
	}
	chat.Close()
	m = &model.Message{OpenID: "o1", Type: model.TypeUserToAgent, Msg: "after close"}
	if err := chat.Send(t.Context(), srv.App(), m); !errors.Is(err, service.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	if got, _ := store.History(t.Context(), "o1", 0, 10); len(got) != 0 {
		t.Errorf("%d messages stored, want none", len(got))
	}
}

// A burst of the largest messages, pushed in concatenated runs, arrives
// whole and in order, and the connections stay open.
func TestBurstOfLargeMessages(t *testing.T) {
	chat, _, srv := newChat(t, dbtest.SQLite(t), service.Options{})
	agent := srv.Dial(t, framework.Identity{ID: "k1", Type: encrypt.TypeKefu})
	u := srv.Dial(t, framework.Identity{ID: "o1", Type: encrypt.TypeWechatUser})
	big := strings.Repeat("😀", model.MaxMsgLen) // 8,000 bytes
	const n = 300                               // 2.4 MB in all, more than a write queue holds
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := &model.Message{OpenID: "o1", Type: model.TypeUserToAgent, Msg: fmt.Sprint(i, big)}
			if err := chat.Send(t.Context(), srv.App(), m); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, cl := range []*msgotest.Client{agent, u} {
		var last int64
		for range n {
			var m model.Message
			cl.Await(t, service.MessageEvent).Decode(t, &m)
			if m.ID <= last || !strings.HasSuffix(m.Msg, big) {
				t.Fatalf("message %d after %d, %d bytes", m.ID, last, len(m.Msg))
			}
			last = m.ID
		}
	}
}
