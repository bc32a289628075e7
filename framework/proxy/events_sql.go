package proxy

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// openRow is a connection that will need a disconnect event.
type openRow struct {
	EventID string `gorm:"primaryKey;size:160"`
	Node    string `gorm:"size:64;index"`
	Client  string `gorm:"type:text"`
	Opened  int64
}

func (openRow) TableName() string { return "proxy_open_conns" }

// eventRow is a disconnect event waiting for the backend.
type eventRow struct {
	EventID  string `gorm:"primaryKey;size:160"`
	Client   string `gorm:"type:text"`
	Opened   int64
	Ended    int64 `gorm:"index"`
	Code     int
	Reason   string `gorm:"size:64"`
	Attempts int
	NextAt   int64 `gorm:"index"`
}

func (eventRow) TableName() string { return "proxy_disconnect_events" }

// nodeRow is a node's last beat: a node whose beat is older than
// staleAfter died, and its open records are reported as lost.
type nodeRow struct {
	Node string `gorm:"primaryKey;size:64"`
	Seen int64  // unix ms
}

func (nodeRow) TableName() string { return "proxy_nodes" }

// staleAfter is how long a node may go without a beat (one a second)
// before its connections are reported lost.
const staleAfter = 10_000 // ms

// Models are the tables the SQL events store needs; migrate them with the
// application's models.
func Models() []any { return []any{&openRow{}, &eventRow{}, &nodeRow{}} }

// SQLEvents keeps disconnect events in database tables (SQLite or MySQL
// through gorm), so they survive a restart. Nodes beat in it, so it also
// knows which nodes died (the memory cache driver has no cluster to say).
type SQLEvents struct{ db *gorm.DB }

var _ Events = (*SQLEvents)(nil)

// NewSQLEvents returns the store on db, whose tables Models migrated.
func NewSQLEvents(db *gorm.DB) *SQLEvents { return &SQLEvents{db: db} }

func toRow(e Event, next int64) eventRow {
	return eventRow{EventID: e.ID, Client: string(e.Client), Opened: e.Opened, Ended: e.Time,
		Code: e.Code, Reason: e.Reason, Attempts: e.Attempts, NextAt: next}
}

func (r eventRow) event() Event {
	return Event{ID: r.EventID, Client: []byte(r.Client), Opened: r.Opened, Time: r.Ended,
		Code: r.Code, Reason: r.Reason, Attempts: r.Attempts}
}

// Opened implements Events.
func (s *SQLEvents) Opened(ctx context.Context, e Event) error {
	err := s.db.WithContext(ctx).Create(&openRow{EventID: e.ID, Node: e.Node, Client: string(e.Client), Opened: e.Opened}).Error
	return wrap("record open connection", err)
}

// Ended implements Events.
func (s *SQLEvents) Ended(ctx context.Context, es []Event) error {
	rows := make([]eventRow, len(es))
	ids := make([]string, len(es))
	for i, e := range es {
		rows[i], ids[i] = toRow(e, e.Time), e.ID
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 200).Error; err != nil {
			return err
		}
		return tx.Where("event_id IN ?", ids).Delete(&openRow{}).Error
	})
	return wrap("store disconnect events", err)
}

// Restarted implements Events.
func (s *SQLEvents) Restarted(ctx context.Context, node string, at int64) (int, error) {
	return s.Lost(ctx, node, at)
}

// Beat implements Events: nodes whose beat is stale, or that never beat
// (records older than the beats), have their open records reported.
func (s *SQLEvents) Beat(ctx context.Context, node string, at int64) (int, error) {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&nodeRow{Node: node, Seen: at}).Error
	if err != nil {
		return 0, wrap("beat", err)
	}
	var stale []string
	err = s.db.WithContext(ctx).Model(&openRow{}).Distinct("node").
		Where("node NOT IN (?)", s.db.Model(&nodeRow{}).Select("node").Where("seen >= ?", at-staleAfter)).
		Pluck("node", &stale).Error
	if err != nil {
		return 0, wrap("find stopped nodes", err)
	}
	total := 0
	for _, n := range stale {
		k, err := s.Lost(ctx, n, at)
		if err != nil {
			return total, err
		}
		total += k
	}
	if len(stale) > 0 {
		s.db.WithContext(ctx).Where("node IN ? AND seen < ?", stale, at-staleAfter).Delete(&nodeRow{})
	}
	return total, nil
}

// Lost implements Events.
func (s *SQLEvents) Lost(ctx context.Context, node string, at int64) (int, error) {
	n := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var open []openRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("node = ?", node).Find(&open).Error; err != nil {
			return err
		}
		if len(open) == 0 {
			return nil
		}
		rows := make([]eventRow, len(open))
		ids := make([]string, len(open))
		for i, o := range open {
			rows[i] = eventRow{EventID: o.EventID, Client: o.Client, Opened: o.Opened, Ended: at, Code: LostCode, Reason: LostReason, NextAt: at}
			ids[i] = o.EventID
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 200).Error; err != nil {
			return err
		}
		n = len(open)
		return tx.Where("event_id IN ?", ids).Delete(&openRow{}).Error
	})
	return n, wrap("report lost connections", err)
}

// Lease implements Events.
func (s *SQLEvents) Lease(ctx context.Context, now, until int64, n int) ([]Event, error) {
	var out []Event
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []eventRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("next_at <= ?", now).Order("next_at").Limit(n).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.EventID
			out = append(out, r.event())
		}
		return tx.Model(&eventRow{}).Where("event_id IN ?", ids).Update("next_at", until).Error
	})
	return out, wrap("lease disconnect events", err)
}

// Delivered implements Events.
func (s *SQLEvents) Delivered(ctx context.Context, ids ...string) error {
	return wrap("forget delivered events", s.db.WithContext(ctx).Where("event_id IN ?", ids).Delete(&eventRow{}).Error)
}

// Retry implements Events.
func (s *SQLEvents) Retry(ctx context.Context, e Event, next int64) error {
	err := s.db.WithContext(ctx).Model(&eventRow{}).Where("event_id = ?", e.ID).
		Updates(map[string]any{"attempts": e.Attempts, "next_at": next}).Error
	return wrap("reschedule an event", err)
}

// Stats implements Events.
func (s *SQLEvents) Stats(ctx context.Context) (int, int64, error) {
	var r struct {
		N      int64
		Oldest *int64
	}
	err := s.db.WithContext(ctx).Model(&eventRow{}).Select("COUNT(*) AS n, MIN(ended) AS oldest").Scan(&r).Error
	if err != nil {
		return 0, 0, wrap("count events", err)
	}
	var oldest int64
	if r.Oldest != nil {
		oldest = *r.Oldest
	}
	return int(r.N), oldest, nil
}

func wrap(op string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("proxy: %s: %w", op, err)
}
