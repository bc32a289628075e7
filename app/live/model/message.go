package model

import "unicode/utf8"

// Column limits of live_message. Longer nicknames are clipped when stored;
// other values over their limit fail to store on MySQL.
const (
	MaxRoomLen     = 64
	MaxUserIDLen   = 64
	MaxUserTypeLen = 16
	MaxNicknameLen = 64
	// MaxContentLen is the protocol's limit on a message, in characters;
	// the controller enforces it, the text column holds far more.
	MaxContentLen = 500
)

// Message is one message on a room's wall: a row of live_message, and the
// param of the live.message push. Its JSON is the wire shape
// {"seq","id","nickname","content","time"}: id is the sender's user id; the
// row id, room and user type stay off the wire.
type Message struct {
	ID       int64  `gorm:"column:id;primaryKey;autoIncrement" json:"-"`
	Room     string `gorm:"column:room;type:varchar(64);not null;uniqueIndex:uk_live_message_room_seq,priority:1" json:"-"`
	Seq      int64  `gorm:"column:seq;not null;uniqueIndex:uk_live_message_room_seq,priority:2" json:"seq"`
	UserID   string `gorm:"column:user_id;type:varchar(64);not null" json:"id"`
	UserType string `gorm:"column:user_type;type:varchar(16);not null" json:"-"`
	Nickname string `gorm:"column:nickname;type:varchar(64);not null" json:"nickname"`
	Content  string `gorm:"column:content;type:text;not null" json:"content"`
	Time     int64  `gorm:"column:time;not null" json:"time"` // unix ms
}

// TableName is the table's name, live_message.
func (Message) TableName() string { return "live_message" }

// Models lists the live module's tables, for db.Migrate.
func Models() []any { return []any{&Message{}, &Held{}} }

// clip returns s cut to at most n characters.
func clip(s string, n int) string {
	if len(s) <= n { // n bytes are at most n characters
		return s
	}
	i := 0
	for count := 0; i < len(s) && count < n; count++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}
