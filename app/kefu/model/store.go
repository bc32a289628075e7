package model

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"msgo/library/db"
)

// Store reads and writes the chat and chat_session tables. It is safe for
// concurrent use.
//
// Errors from the database are classified: errors.Is(err, db.ErrUnavailable)
// means the database could not be reached and nothing was changed.
type Store struct {
	db *gorm.DB
}

// NewStore returns a Store over gdb, whose tables were created with
// db.Migrate(ctx, gdb, Models()...).
func NewStore(gdb *gorm.DB) *Store {
	return &Store{db: gdb}
}

// Insert stores m as unread and fills in m.ID (and m.Time with the current
// unix ms when it is 0). The openid's chat_session row is moved to m in the
// same transaction.
func (s *Store) Insert(ctx context.Context, m *Message) error {
	if err := checkMessage(m); err != nil {
		return fmt.Errorf("kefu: insert: %w", err)
	}
	if err := s.insert(ctx, m); err != nil {
		return fmt.Errorf("kefu: insert message of %q: %w", m.OpenID, err)
	}
	return nil
}

// InsertAll stores ms as Insert does, in order and in one transaction: all
// of them or, on an error, none (their IDs stay 0). The rows go in one
// INSERT and their sessions in one upsert: for a busy chat, one commit (a
// flush to disk) and two statements for many messages instead of each.
func (s *Store) InsertAll(ctx context.Context, ms []*Message) error {
	for i, m := range ms {
		if err := checkMessage(m); err != nil {
			return fmt.Errorf("kefu: insert: message %d: %w", i, err)
		}
	}
	if err := s.insert(ctx, ms...); err != nil {
		return fmt.Errorf("kefu: insert %d messages: %w", len(ms), err)
	}
	return nil
}

// insert stores checked messages in one transaction.
func (s *Store) insert(ctx context.Context, ms ...*Message) error {
	now := time.Now().UnixMilli()
	for _, m := range ms {
		if m.Time == 0 {
			m.Time = now
		}
		m.IsRead = 0
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(ms).Error; err != nil {
			return err
		}
		inValuesOrder(ms)
		return upsertSessions(tx, ms)
	})
	if err != nil {
		for _, m := range ms {
			m.ID = 0 // rolled back
		}
		return db.Classify(err)
	}
	return nil
}

// inValuesOrder gives ms the ids of one multi-row INSERT in the order of
// its VALUES. The database numbers the rows of one INSERT in that order
// (InnoDB allocates a statement's auto-increment values at once and
// consecutively; SQLite appends), but a RETURNING clause, which gorm reads
// them from on MariaDB and SQLite, is not bound to return them in that
// order. On MySQL gorm counts up from LAST_INSERT_ID(), which assumes
// auto_increment_increment = 1.
func inValuesOrder(ms []*Message) {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	slices.Sort(ids)
	for i, m := range ms {
		m.ID = ids[i]
	}
}

// upsertSessions moves the chat_session row of every openid in ms to its
// latest message there, with the nickname and code of its latest user
// message, in one statement. Rows go in openid order, so two transactions
// upserting the same openids lock them in the same order and cannot
// deadlock each other.
func upsertSessions(tx *gorm.DB, ms []*Message) error {
	type row struct {
		last *Message
		from Sender
	}
	latest := make(map[string]*row, len(ms))
	for _, m := range ms {
		r := latest[m.OpenID]
		if r == nil {
			r = &row{last: m}
			latest[m.OpenID] = r
		}
		if m.ID >= r.last.ID {
			r.last = m
		}
		if m.Type == TypeUserToAgent && m.From != (Sender{}) {
			r.from = m.From // ms are in id order
		}
	}
	openids := slices.Sorted(maps.Keys(latest))
	args := make([]any, 0, 6*len(openids))
	for _, id := range openids {
		r := latest[id]
		args = append(args, id, r.last.ID, r.last.Msg, r.last.Time, r.from.Nickname, r.from.Code)
	}
	values := "VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(openids)), ", ")
	return tx.Exec(sessionUpsert(tx, values), args...).Error
}

// History returns up to limit messages of openid, newest first, with
// id < beforeID (beforeID 0: from the newest). The result is empty, never
// nil, when there are none.
func (s *Store) History(ctx context.Context, openid string, beforeID int64, limit int) ([]Message, error) {
	if limit < 1 {
		return nil, fmt.Errorf("kefu: history: limit %d, want at least 1", limit)
	}
	q := s.db.WithContext(ctx).Where("openid = ?", openid)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	msgs := make([]Message, 0, min(limit, 100))
	if err := q.Order("id DESC").Limit(limit).Find(&msgs).Error; err != nil {
		return nil, fmt.Errorf("kefu: history of %q: %w", openid, db.Classify(err))
	}
	return msgs, nil
}

// MarkRead marks as read the unread messages of openid's conversation that
// have type fromType (the other side's messages: TypeUserToAgent when an
// agent reads, TypeAgentToUser when the user reads) and id <= upToID, and
// returns how many it changed.
func (s *Store) MarkRead(ctx context.Context, openid string, fromType int, upToID int64) (int64, error) {
	if err := checkType(fromType); err != nil {
		return 0, fmt.Errorf("kefu: mark read: %w", err)
	}
	res := s.db.WithContext(ctx).
		Model(&Message{}).
		Where("isread = 0 AND type = ? AND openid = ? AND id <= ?", fromType, openid, upToID).
		Update("isread", 1)
	if res.Error != nil {
		return 0, fmt.Errorf("kefu: mark read of %q: %w", openid, db.Classify(res.Error))
	}
	return res.RowsAffected, nil
}

// Unread counts openid's unread messages of type fromType.
func (s *Store) Unread(ctx context.Context, openid string, fromType int) (int64, error) {
	if err := checkType(fromType); err != nil {
		return 0, fmt.Errorf("kefu: unread: %w", err)
	}
	var n int64
	err := s.db.WithContext(ctx).
		Model(&Message{}).
		Where("isread = 0 AND type = ? AND openid = ?", fromType, openid).
		Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("kefu: unread of %q: %w", openid, db.Classify(err))
	}
	return n, nil
}

// UnreadSessions returns, for every openid with unread user-to-agent
// messages, how many there are, ordered by openid.
func (s *Store) UnreadSessions(ctx context.Context) ([]SessionUnread, error) {
	out := []SessionUnread{}
	if err := s.unreadByOpenID(ctx, nil).Order("openid").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("kefu: unread sessions: %w", db.Classify(err))
	}
	return out, nil
}

// Sessions returns the limit conversations with the most recent messages,
// latest first, each with its count of unread user-to-agent messages.
func (s *Store) Sessions(ctx context.Context, limit int) ([]Session, error) {
	return s.AgentSessions(ctx, "", OwnerAny, limit)
}

// withUnread fills in the Unread count of sessions.
func (s *Store) withUnread(ctx context.Context, sessions []Session) error {
	if len(sessions) == 0 {
		return nil
	}
	var counts []SessionUnread
	if err := s.unreadByOpenID(ctx, openIDsOf(sessions)).Scan(&counts).Error; err != nil {
		return fmt.Errorf("unread counts: %w", db.Classify(err))
	}
	unread := make(map[string]int64, len(counts))
	for _, c := range counts {
		unread[c.OpenID] = c.Unread
	}
	for i := range sessions {
		sessions[i].Unread = unread[sessions[i].OpenID]
	}
	return nil
}

func openIDsOf(sessions []Session) []string {
	openids := make([]string, len(sessions))
	for i, ses := range sessions {
		openids[i] = ses.OpenID
	}
	return openids
}

// unreadByOpenID counts unread user-to-agent messages per openid, of the
// given openids or (nil) of all. It reads only idx_chat_unread.
func (s *Store) unreadByOpenID(ctx context.Context, openids []string) *gorm.DB {
	q := s.db.WithContext(ctx).
		Model(&Message{}).
		Select("openid, COUNT(*) AS unread").
		Where("isread = 0 AND type = ?", TypeUserToAgent)
	if openids != nil {
		q = q.Where("openid IN ?", openids)
	}
	return q.Group("openid")
}

func checkMessage(m *Message) error {
	if err := checkType(m.Type); err != nil {
		return err
	}
	if m.OpenID == "" {
		return fmt.Errorf("empty openid")
	}
	return nil
}

func checkType(t int) error {
	if t != TypeAgentToUser && t != TypeUserToAgent {
		return fmt.Errorf("type %d, want %d or %d", t, TypeAgentToUser, TypeUserToAgent)
	}
	return nil
}
