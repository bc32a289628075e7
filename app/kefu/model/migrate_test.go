package model_test

import (
	"testing"

	"gorm.io/gorm"

	"msgo/app/kefu/model"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// v1Session is chat_session as the first release created it: no nickname,
// code or assignment.
type v1Session struct {
	OpenID   string `gorm:"column:openid;type:varchar(64);primaryKey"`
	LastID   int64  `gorm:"column:last_id;not null;index:idx_chat_session_last_id"`
	LastMsg  string `gorm:"column:last_msg;type:text;not null"`
	LastTime int64  `gorm:"column:last_time;not null"`
}

func (v1Session) TableName() string { return "chat_session" }

// A database made by the first release migrates in place: chat_session
// gets its new columns, empty, and its index, chat_read is created, the
// rows are kept, and everything works on them, twice over.
func TestMigrateFromFirstRelease(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := t.Context()
		if err := db.Migrate(ctx, gdb, &model.Message{}, &v1Session{}); err != nil {
			t.Fatal(err)
		}
		old := model.Message{OpenID: "o1", Type: model.TypeUserToAgent, Msg: "from the old release", Time: 1}
		if err := gdb.Create(&old).Error; err != nil {
			t.Fatal(err)
		}
		if err := gdb.Create(&v1Session{OpenID: "o1", LastID: old.ID, LastMsg: old.Msg, LastTime: 1}).Error; err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := db.Migrate(ctx, gdb, model.Models()...); err != nil {
				t.Fatal(err)
			}
		}
		for _, idx := range []string{"idx_chat_session_agent", "idx_chat_session_last_id"} {
			if !gdb.Migrator().HasIndex(&model.Session{}, idx) {
				t.Errorf("chat_session has no %s", idx)
			}
		}
		s := model.NewStore(gdb)
		got, err := s.AgentSessions(ctx, "a1", model.OwnerUnassigned, 10)
		if err != nil || len(got) != 1 || got[0].Nickname != "" || got[0].AgentID != "" || *got[0].MyUnread != 1 {
			t.Fatalf("the old row as unassigned: %+v, %v", got, err)
		}
		m := model.Message{OpenID: "o1", Type: model.TypeUserToAgent, Msg: "new", From: model.Sender{Nickname: "小明"}}
		if err := s.Insert(ctx, &m); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Assign(ctx, "o1", "", "a1", "客服"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkReadBy(ctx, "a1", "o1", m.ID); err != nil {
			t.Fatal(err)
		}
		got, err = s.AgentSessions(ctx, "a1", model.OwnerMine, 10)
		if err != nil || len(got) != 1 || got[0].Nickname != "小明" || got[0].AgentName != "客服" || *got[0].MyUnread != 0 || got[0].Unread != 2 {
			t.Fatalf("after a message, a claim and a read: %+v, %v", got, err)
		}
	})
}
