package model

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"msgo/library/db"
)

// Held is a message waiting for a moderator: a row of live_held, and the
// param of the live.message.held push. Its JSON is
// {"held_id","id","nickname","content","time","word"}: id is the sender's
// user id, as in a live.message; word is the hold word that matched, empty
// when the room holds every message.
type Held struct {
	HeldID   int64  `gorm:"column:id;primaryKey;autoIncrement" json:"held_id"`
	Room     string `gorm:"column:room;type:varchar(64);not null;index:idx_live_held_room_id,priority:1" json:"-"`
	UserID   string `gorm:"column:user_id;type:varchar(64);not null" json:"id"`
	UserType string `gorm:"column:user_type;type:varchar(16);not null" json:"-"`
	Nickname string `gorm:"column:nickname;type:varchar(64);not null" json:"nickname"`
	Content  string `gorm:"column:content;type:text;not null" json:"content"`
	Time     int64  `gorm:"column:time;not null" json:"time"` // unix ms, when it was held
	Word     string `gorm:"column:word;type:varchar(64);not null" json:"word"`
}

// TableName is the table's name, live_held.
func (Held) TableName() string { return "live_held" }

// Message returns the held message as the wall message it becomes once
// approved; the caller numbers it.
func (h Held) Message() Message {
	return Message{Room: h.Room, UserID: h.UserID, UserType: h.UserType, Nickname: h.Nickname, Content: h.Content}
}

// ErrNotHeld means the held message is not waiting (any more): another
// moderator decided it first, or it never was in that room.
var ErrNotHeld = errors.New("live: no such held message")

// Hold stores h (HeldID is filled in, Nickname and Word clipped).
func (s *Store) Hold(ctx context.Context, h *Held) error {
	h.Nickname = clip(h.Nickname, MaxNicknameLen)
	h.Word = clip(h.Word, MaxNicknameLen)
	if err := s.db.WithContext(ctx).Create(h).Error; err != nil {
		return fmt.Errorf("live: hold a message of room %q: %w", h.Room, db.Classify(err))
	}
	return nil
}

// Held returns up to limit held messages of room with held_id > afterID,
// oldest first; empty, never nil, when none wait.
func (s *Store) Held(ctx context.Context, room string, afterID int64, limit int) ([]Held, error) {
	out := make([]Held, 0, min(limit, 100))
	err := s.db.WithContext(ctx).
		Where("room = ? AND id > ?", room, afterID).
		Order("id").
		Limit(limit).
		Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("live: held messages of room %q: %w", room, db.Classify(err))
	}
	return out, nil
}

// Take removes held message id of room and returns it. Of several callers
// taking the same message, exactly one gets it; the others get ErrNotHeld.
func (s *Store) Take(ctx context.Context, room string, id int64) (Held, error) {
	var h Held
	err := s.db.WithContext(ctx).Where("room = ? AND id = ?", room, id).Take(&h).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return h, ErrNotHeld
	}
	if err != nil {
		return h, fmt.Errorf("live: read held message %d: %w", id, db.Classify(err))
	}
	res := s.db.WithContext(ctx).Where("room = ? AND id = ?", room, id).Delete(&Held{})
	if res.Error != nil {
		return h, fmt.Errorf("live: take held message %d: %w", id, db.Classify(res.Error))
	}
	if res.RowsAffected != 1 { // another moderator took it in between
		return h, ErrNotHeld
	}
	return h, nil
}

// Restore puts back a message Take removed, under its old id, when what
// was to follow (storing it as a wall message) failed.
func (s *Store) Restore(ctx context.Context, h Held) error {
	if err := s.db.WithContext(ctx).Create(&h).Error; err != nil {
		return fmt.Errorf("live: put back held message %d: %w", h.HeldID, db.Classify(err))
	}
	return nil
}
