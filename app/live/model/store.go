package model

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"msgo/library/db"
)

// maxInsertRows bounds one INSERT statement: 8 placeholders a row stays
// well under MySQL's 65,535 and SQLite's 32,766 placeholders.
const maxInsertRows = 1000

// Store reads and writes live_message. It is safe for concurrent use.
//
// Errors from the database are classified: errors.Is(err, db.ErrUnavailable)
// means the database could not be reached and nothing was stored. Inserting
// a (room, seq) pair that exists fails with gorm.ErrDuplicatedKey.
type Store struct {
	db *gorm.DB
}

// NewStore returns a Store over gdb, whose tables were created with
// db.Migrate(ctx, gdb, Models()...).
func NewStore(gdb *gorm.DB) *Store {
	return &Store{db: gdb}
}

// Insert stores msgs in one multi-row INSERT (several inside one
// transaction past maxInsertRows rows), all or none. It fills in each row's
// ID and clips Nickname to MaxNicknameLen characters, in place.
func (s *Store) Insert(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	for i := range msgs {
		msgs[i].Nickname = clip(msgs[i].Nickname, MaxNicknameLen)
	}
	tx := s.db.WithContext(ctx)
	var err error
	if len(msgs) <= maxInsertRows {
		err = tx.Create(&msgs).Error
	} else {
		err = tx.Transaction(func(tx *gorm.DB) error {
			return tx.CreateInBatches(&msgs, maxInsertRows).Error
		})
	}
	if err != nil {
		return fmt.Errorf("live: insert %d messages: %w", len(msgs), db.Classify(err))
	}
	return nil
}

// History returns up to limit messages of room with seq > afterSeq,
// ascending by seq: what a wall that saw afterSeq last has missed. The
// result is empty, never nil, when there is nothing newer.
func (s *Store) History(ctx context.Context, room string, afterSeq int64, limit int) ([]Message, error) {
	if limit < 1 {
		return nil, fmt.Errorf("live: history: limit %d, want at least 1", limit)
	}
	msgs := make([]Message, 0, min(limit, 100))
	err := s.db.WithContext(ctx).
		Where("room = ? AND seq > ?", room, afterSeq).
		Order("seq").
		Limit(limit).
		Find(&msgs).Error
	if err != nil {
		return nil, fmt.Errorf("live: history of room %q: %w", room, db.Classify(err))
	}
	return msgs, nil
}

// MaxSeq returns the highest stored seq of room, or 0 when the room has no
// messages: where a room's sequence continues after a restart.
func (s *Store) MaxSeq(ctx context.Context, room string) (int64, error) {
	var seq int64
	err := s.db.WithContext(ctx).
		Model(&Message{}).
		Select("COALESCE(MAX(seq), 0)").
		Where("room = ?", room).
		Scan(&seq).Error
	if err != nil {
		return 0, fmt.Errorf("live: max seq of room %q: %w", room, db.Classify(err))
	}
	return seq, nil
}
