package model

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"msgo/library/db"
)

// Why a chat_session table: the session list wants the latest message of
// each openid, newest first. Computed from chat alone that is a GROUP BY
// openid over every openid that ever wrote (10,000 index dives at 1M rows,
// growing with the user base, see BenchmarkQueries/.../SessionsGroupBy);
// chat_session answers it by reading `limit` rows of its last_id index. It
// costs one upsert per message, in the message's transaction.

// sessionColumns is the INSERT head shared by the per-message upsert and
// SyncSessions.
const sessionColumns = "INSERT INTO chat_session (openid, last_id, last_msg, last_time, nickname, code) "

// On a conflict, a row only moves forward: two messages of one openid may
// commit in either order, and the one with the larger id must win. An
// empty nickname or code (an agent's message, SyncSessions) keeps the one
// stored. The assignment (agent_id, agent_name) is never touched here.
const (
	sqliteSessionConflict = ` ON CONFLICT (openid) DO UPDATE SET
	last_id = excluded.last_id, last_msg = excluded.last_msg, last_time = excluded.last_time,
	nickname = CASE WHEN excluded.nickname <> '' THEN excluded.nickname ELSE chat_session.nickname END,
	code = CASE WHEN excluded.code <> '' THEN excluded.code ELSE chat_session.code END
	WHERE excluded.last_id > chat_session.last_id`
	// MySQL applies the assignments left to right, so last_id comes last.
	mysqlSessionConflict = ` ON DUPLICATE KEY UPDATE
	last_msg = IF(VALUES(last_id) > last_id, VALUES(last_msg), last_msg),
	last_time = IF(VALUES(last_id) > last_id, VALUES(last_time), last_time),
	nickname = IF(VALUES(last_id) > last_id AND VALUES(nickname) <> '', VALUES(nickname), nickname),
	code = IF(VALUES(last_id) > last_id AND VALUES(code) <> '', VALUES(code), code),
	last_id = GREATEST(last_id, VALUES(last_id))`
)

// sessionUpsert returns the statement that upserts chat_session rows from
// source (a VALUES list or a SELECT of openid, id, msg, time, nickname,
// code) in gdb's dialect.
func sessionUpsert(gdb *gorm.DB, source string) string {
	if gdb.Dialector.Name() == db.DriverMySQL {
		return sessionColumns + source + mysqlSessionConflict
	}
	return sessionColumns + source + sqliteSessionConflict
}

// latestPerOpenID selects each openid's latest message. "WHERE true" ends
// the SELECT so that SQLite does not read the upsert's ON as a join's.
const latestPerOpenID = `SELECT c.openid, c.id, c.msg, c.time, '', ''
	FROM chat c JOIN (SELECT MAX(id) AS id FROM chat GROUP BY openid) latest ON latest.id = c.id
	WHERE true`

// SyncSessions brings chat_session up to date with chat: it adds the
// openids it lacks and moves stale ones to their latest message, and returns
// how many rows changed (as the driver counts them). Store.Insert keeps the
// table current by itself; run this once after importing an existing chat
// table (e.g. the ThinkPHP one) and whenever programs other than msgo insert
// into chat. It reads all of chat, so it is not for the request path.
func (s *Store) SyncSessions(ctx context.Context) (int64, error) {
	tx := s.db.WithContext(ctx)
	res := tx.Exec(sessionUpsert(tx, latestPerOpenID))
	if res.Error != nil {
		return 0, fmt.Errorf("kefu: sync sessions: %w", db.Classify(res.Error))
	}
	return res.RowsAffected, nil
}
