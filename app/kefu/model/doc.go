// Package model stores the kefu (customer-service) chat: the chat table of
// the ThinkPHP app it replaces, plus chat_session, one row per openid
// pointing at its latest message, which keeps the session list fast.
//
//	store := model.NewStore(gdb) // after db.Migrate(ctx, gdb, model.Models()...)
//
//	m := model.Message{OpenID: openid, Type: model.TypeUserToAgent, Msg: text}
//	if err := store.Insert(ctx, &m); err != nil {
//		// errors.Is(err, db.ErrUnavailable): answer 503, nothing stored
//	}
//	// reply {"id": m.ID, "time": m.Time}; push m (its JSON is the wire object)
//	err = store.InsertAll(ctx, batch) // many messages, one transaction (group commit)
//
//	msgs, _ := store.History(ctx, openid, beforeID, 20)                 // newest first
//	n, _ := store.MarkRead(ctx, openid, model.TypeUserToAgent, upToID) // an agent read them
//	sessions, _ := store.Sessions(ctx, 50)                             // latest first
//
// An existing chat table (rows written by the PHP app) is taken over by
// db.Migrate, which adds the indexes and chat_session, followed by one
// Store.SyncSessions.
//
// Measured on 1,000,000 rows over 10,000 openids (BenchmarkQueries, MariaDB
// 10.11): History 0.5 ms, Unread 0.3 ms, Sessions 1 ms, where a GROUP BY
// over chat for the same list takes 210 ms.
//
// Concurrency: a Store is safe for concurrent use. Insert writes the message
// and its session in one transaction, InsertAll many messages and their
// sessions (locked in openid order, so concurrent batches cannot deadlock
// on them); concurrent messages of one openid leave the session at the one
// with the larger id.
package model
