package model

// Message types: who wrote the message (the TP5 chat table's type column).
const (
	TypeAgentToUser = 1 // written by a kefu agent to a user
	TypeUserToAgent = 2 // written by a user (openid) to the agents
)

// MaxMsgLen is the protocol's limit on a message, in characters; the
// controller enforces it, the text column holds far more.
const MaxMsgLen = 2000

// MaxOpenIDLen is the width of the openid column, in characters; a longer
// openid cannot be stored (WeChat's are 28).
const MaxOpenIDLen = 64

// Message is one chat message: a row of the chat table and, as JSON, the
// wire object {"id","openid","msg","type","isread","time"}.
//
// Indexes: (openid, id) serves History; (isread, type, openid) serves
// Unread, MarkRead, UnreadSessions and the unread counts of Sessions. It
// leads with isread and type, not openid, so that UnreadSessions reads only
// the unread rows instead of scanning every openid's entries; lookups for one
// openid use all three columns by equality and are as fast either way.
type Message struct {
	ID     int64  `gorm:"column:id;primaryKey;autoIncrement;index:idx_chat_openid_id,priority:2" json:"id"`
	OpenID string `gorm:"column:openid;type:varchar(64);not null;index:idx_chat_openid_id,priority:1;index:idx_chat_unread,priority:3" json:"openid"`
	Msg    string `gorm:"column:msg;type:text;not null" json:"msg"`
	Type   int    `gorm:"column:type;type:tinyint;not null;index:idx_chat_unread,priority:2" json:"type"`
	IsRead int    `gorm:"column:isread;type:tinyint;not null;default:0;index:idx_chat_unread,priority:1" json:"isread"`
	Time   int64  `gorm:"column:time;not null" json:"time"` // unix ms

	// From is who wrote a user's message, as the user's token says; it is
	// kept on the conversation (chat_session), not on the row or the wire.
	From Sender `gorm:"-" json:"-"`
}

// Sender is what a user's token tells the agents about them: the
// nickname and the room code, each cut to MaxOpenIDLen characters.
type Sender struct {
	Nickname string
	Code     string
}

// TableName is the table's name, chat.
func (Message) TableName() string { return "chat" }

// Session is a conversation with one openid: a row of chat_session, which
// Store.Insert keeps pointing at the openid's latest message, plus the
// count of that user's messages no agent has read yet. Its JSON is the
// kefu.session.list entry {"openid","last_msg","last_time","unread",
// "nickname","code","agent_id","agent_name","my_unread","my_read_id"}.
//
// Nickname and Code are the latest non-empty ones the user's messages
// came with. AgentID and AgentName name the agent the conversation is
// assigned to (claimed or transferred), empty when it is unassigned.
// Index (agent_id, last_id) serves one agent's list, latest first.
type Session struct {
	OpenID    string `gorm:"column:openid;type:varchar(64);primaryKey" json:"openid"`
	LastID    int64  `gorm:"column:last_id;not null;index:idx_chat_session_last_id;index:idx_chat_session_agent,priority:2" json:"-"`
	LastMsg   string `gorm:"column:last_msg;type:text;not null" json:"last_msg"`
	LastTime  int64  `gorm:"column:last_time;not null" json:"last_time"`
	Unread    int64  `gorm:"-" json:"unread"` // computed from chat, not stored
	Nickname  string `gorm:"column:nickname;type:varchar(64);not null;default:''" json:"nickname"`
	Code      string `gorm:"column:code;type:varchar(64);not null;default:''" json:"code"`
	AgentID   string `gorm:"column:agent_id;type:varchar(64);not null;default:'';index:idx_chat_session_agent,priority:1" json:"agent_id"`
	AgentName string `gorm:"column:agent_name;type:varchar(64);not null;default:''" json:"agent_name"`
	// MyUnread is, for the agent who asked, how many of the user's
	// messages that agent has not read (see Store.AgentSessions); nil
	// where no agent asked, so a push to all agents leaves it out.
	MyUnread *int64 `gorm:"-" json:"my_unread,omitempty"`
	// MyReadID is that agent's read mark, 0 when it has none (then a
	// reply by any agent restarts its count); nil where no agent asked.
	MyReadID *int64 `gorm:"-" json:"my_read_id,omitempty"`
}

// TableName is the table's name, chat_session.
func (Session) TableName() string { return "chat_session" }

// SessionUnread is how many of one user's messages no agent has read.
type SessionUnread struct {
	OpenID string `gorm:"column:openid" json:"openid"`
	Unread int64  `gorm:"column:unread" json:"unread"`
}

// ReadMark is how far one agent has read one conversation: a row of
// chat_read. An agent's unread count for a conversation is the user's
// messages after its mark; without a mark, those after the agents'
// latest reply.
type ReadMark struct {
	AgentID string `gorm:"column:agent_id;type:varchar(64);primaryKey"`
	OpenID  string `gorm:"column:openid;type:varchar(64);primaryKey"`
	ReadID  int64  `gorm:"column:read_id;not null"`
}

// TableName is the table's name, chat_read.
func (ReadMark) TableName() string { return "chat_read" }

// Models lists the kefu module's tables, for db.Migrate. Migrating an
// older chat_session adds its new columns, empty (unassigned, no
// nickname), and its index; chat_read starts empty.
func Models() []any { return []any{&Message{}, &Session{}, &ReadMark{}} }
