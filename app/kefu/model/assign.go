package model

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"msgo/library/db"
)

// Owner selects conversations by whom they are assigned to, as seen by
// one agent.
type Owner string

// The Owner values kefu.session.list takes.
const (
	OwnerAny        Owner = ""           // every conversation
	OwnerMine       Owner = "mine"       // assigned to the asking agent
	OwnerUnassigned Owner = "unassigned" // assigned to nobody
	OwnerOthers     Owner = "others"     // assigned to another agent
)

// ErrNoSession is returned for a conversation that does not exist: the
// openid never wrote and was never written to.
var ErrNoSession = errors.New("kefu: no such conversation")

// HeldError is returned when a conversation is assigned to another agent
// than the caller expected.
type HeldError struct {
	AgentID, AgentName string
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("kefu: the conversation is assigned to %s (%s)", e.AgentName, e.AgentID)
}

// AgentSessions returns up to limit conversations of owner as agent sees
// them, the one with the latest message first, each with Unread and with
// MyUnread, agent's own count: the user's messages after agent's read mark
// (Store.MarkReadBy) or, in a conversation agent never read, after the
// agents' latest reply (what is waiting for an answer). So one agent
// reading a conversation leaves the others' counts alone. agent "" leaves
// MyUnread nil; owner must then be OwnerAny.
func (s *Store) AgentSessions(ctx context.Context, agent string, owner Owner, limit int) ([]Session, error) {
	if limit < 1 {
		return nil, fmt.Errorf("kefu: sessions: limit %d, want at least 1", limit)
	}
	q := s.db.WithContext(ctx)
	switch {
	case owner == OwnerAny:
	case agent == "":
		return nil, fmt.Errorf("kefu: sessions: owner %q needs an agent", owner)
	case owner == OwnerMine:
		q = q.Where("agent_id = ?", agent)
	case owner == OwnerUnassigned:
		q = q.Where("agent_id = ''")
	case owner == OwnerOthers:
		q = q.Where("agent_id <> '' AND agent_id <> ?", agent)
	default:
		return nil, fmt.Errorf("kefu: sessions: unknown owner %q", owner)
	}
	sessions := make([]Session, 0, min(limit, 100))
	if err := q.Order("last_id DESC").Limit(limit).Find(&sessions).Error; err != nil {
		return nil, fmt.Errorf("kefu: sessions: %w", db.Classify(err))
	}
	if err := s.withUnread(ctx, sessions); err != nil {
		return nil, fmt.Errorf("kefu: sessions: %w", err)
	}
	if agent == "" || len(sessions) == 0 {
		return sessions, nil
	}
	mine, marks, err := s.myUnread(ctx, agent, openIDsOf(sessions))
	if err != nil {
		return nil, fmt.Errorf("kefu: sessions: %s's unread counts: %w", agent, err)
	}
	for i := range sessions {
		n, mark := mine[sessions[i].OpenID], marks[sessions[i].OpenID]
		sessions[i].MyUnread, sessions[i].MyReadID = &n, &mark
	}
	return sessions, nil
}

// myUnread counts, per openid, the user's messages after agent's read mark
// or, where agent has none, after the agents' latest reply, and returns
// the marks it found. Each count reads only the rows after that point: the
// last query is a union of (openid, id) index ranges.
func (s *Store) myUnread(ctx context.Context, agent string, openids []string) (counts, marks map[string]int64, err error) {
	q := s.db.WithContext(ctx)
	var rows []ReadMark
	if err := q.Where("agent_id = ? AND openid IN ?", agent, openids).Find(&rows).Error; err != nil {
		return nil, nil, db.Classify(err)
	}
	after := make(map[string]int64, len(openids))
	marks = make(map[string]int64, len(rows))
	for _, m := range rows {
		after[m.OpenID] = m.ReadID
		marks[m.OpenID] = m.ReadID
	}
	// Where agent has no mark, the agents' latest reply: one MAX per
	// openid, so each reads that openid's (openid, id) range. (One GROUP
	// BY over "openid IN (...)" made MariaDB scan far more: 150 ms at
	// 1M rows, BenchmarkQueries.)
	var latest []string
	var largs []any
	for _, id := range openids {
		if _, ok := marks[id]; !ok {
			latest = append(latest, "SELECT ? AS openid, MAX(id) AS last_id FROM chat WHERE openid = ? AND type = ?")
			largs = append(largs, id, id, TypeAgentToUser)
		}
	}
	if len(latest) > 0 {
		var replies []struct {
			OpenID string `gorm:"column:openid"`
			LastID *int64 `gorm:"column:last_id"`
		}
		if err := q.Raw(strings.Join(latest, " UNION ALL "), largs...).Scan(&replies).Error; err != nil {
			return nil, nil, db.Classify(err)
		}
		for _, r := range replies {
			if r.LastID != nil {
				after[r.OpenID] = *r.LastID
			}
		}
	}
	var ranges []string
	var args []any
	for _, id := range openids {
		ranges = append(ranges, "(openid = ? AND id > ?)")
		args = append(args, id, after[id])
	}
	var unread []SessionUnread
	err = q.Model(&Message{}).Select("openid, COUNT(*) AS unread").
		Where(strings.Join(ranges, " OR "), args...).Where("type = ?", TypeUserToAgent).
		Group("openid").Scan(&unread).Error
	if err != nil {
		return nil, nil, db.Classify(err)
	}
	counts = make(map[string]int64, len(unread))
	for _, c := range unread {
		counts[c.OpenID] = c.Unread
	}
	return counts, marks, nil
}

// Session returns the conversation with openid, with Unread, or
// ErrNoSession.
func (s *Store) Session(ctx context.Context, openid string) (Session, error) {
	var ses []Session
	if err := s.db.WithContext(ctx).Where("openid = ?", openid).Limit(1).Find(&ses).Error; err != nil {
		return Session{}, fmt.Errorf("kefu: session %q: %w", openid, db.Classify(err))
	}
	if len(ses) == 0 {
		return Session{}, ErrNoSession
	}
	if err := s.withUnread(ctx, ses); err != nil {
		return Session{}, fmt.Errorf("kefu: session %q: %w", openid, err)
	}
	return ses[0], nil
}

// Assign gives the conversation with openid to agent to (named toName;
// to "" unassigns it), provided it is assigned to from now (from "":
// unassigned), and returns it as it is then. It fails with ErrNoSession,
// or with a *HeldError naming the agent that has it when that is neither
// from nor to; a conversation already assigned to to is left as it is.
// The check and the change are one conditional UPDATE, so of two agents
// claiming one conversation at once exactly one gets it.
func (s *Store) Assign(ctx context.Context, openid, from, to, toName string) (Session, error) {
	if to == "" {
		toName = ""
	}
	res := s.db.WithContext(ctx).Model(&Session{}).
		Where("openid = ? AND agent_id = ?", openid, from).
		Updates(map[string]any{"agent_id": to, "agent_name": toName})
	if res.Error != nil {
		return Session{}, fmt.Errorf("kefu: assign %q: %w", openid, db.Classify(res.Error))
	}
	ses, err := s.Session(ctx, openid)
	if err != nil {
		return Session{}, err
	}
	if res.RowsAffected == 0 && ses.AgentID != to {
		return Session{}, &HeldError{AgentID: ses.AgentID, AgentName: ses.AgentName}
	}
	return ses, nil
}

// MarkReadBy moves agent's read mark of openid's conversation up to
// upToID (never back, never past the conversation's latest message).
// It does nothing for a conversation that does not exist.
func (s *Store) MarkReadBy(ctx context.Context, agent, openid string, upToID int64) error {
	tx := s.db.WithContext(ctx)
	err := tx.Exec(readMarkUpsert(tx), agent, upToID, upToID, openid).Error
	if err != nil {
		return fmt.Errorf("kefu: %s's read mark of %q: %w", agent, openid, db.Classify(err))
	}
	return nil
}

// readMarkUpsert is the statement of MarkReadBy in gdb's dialect; the
// SELECT's WHERE keeps SQLite from reading ON CONFLICT as a join's ON.
func readMarkUpsert(gdb *gorm.DB) string {
	const head = `INSERT INTO chat_read (agent_id, openid, read_id)
	SELECT ?, openid, CASE WHEN last_id < ? THEN last_id ELSE ? END FROM chat_session WHERE openid = ?`
	if gdb.Dialector.Name() == db.DriverMySQL {
		return head + ` ON DUPLICATE KEY UPDATE read_id = GREATEST(read_id, VALUES(read_id))`
	}
	return head + ` ON CONFLICT (agent_id, openid) DO UPDATE SET read_id = MAX(read_id, excluded.read_id)`
}

// AgentLoads returns how many conversations each of agents is assigned,
// leaving out those with none.
func (s *Store) AgentLoads(ctx context.Context, agents []string) (map[string]int64, error) {
	out := make(map[string]int64, len(agents))
	if len(agents) == 0 {
		return out, nil
	}
	var rows []struct {
		AgentID string `gorm:"column:agent_id"`
		N       int64  `gorm:"column:n"`
	}
	err := s.db.WithContext(ctx).Model(&Session{}).Select("agent_id, COUNT(*) AS n").
		Where("agent_id IN ?", agents).Group("agent_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("kefu: agent loads: %w", db.Classify(err))
	}
	for _, r := range rows {
		out[r.AgentID] = r.N
	}
	return out, nil
}
