// Package model stores the live module's wall messages (table live_message)
// and reads them back for live.message.history.
//
//	store := model.NewStore(gdb) // after db.Migrate(ctx, gdb, model.Models()...)
//	w := model.NewWriter(store, 0, 0)
//	defer w.Close()
//
//	next, err := store.MaxSeq(ctx, room) // where the room's seq continues
//	...
//	m := model.Message{Room: room, Seq: seq, UserID: id, UserType: typ,
//		Nickname: nick, Content: content, Time: time.Now().UnixMilli()}
//	if err := w.Write(ctx, m); err != nil {
//		// errors.Is(err, db.ErrUnavailable): answer 503, nothing stored
//	}
//	// stored: reply {"seq","time"} and push m (its JSON is the push shape)
//
//	msgs, err := store.History(ctx, room, afterSeq, limit) // ascending by seq
//
// Message JSON is the live.message push param. seq values are allocated by
// the caller (one counter per room, cluster-wide); the store only enforces
// that a (room, seq) pair is stored once.
//
// Concurrency: Store and Writer are safe for concurrent use. Writer.Write
// blocks until its row is committed; concurrent writes share multi-row
// INSERTs (BenchmarkWriter, 64 senders, 2 CPUs: about 40,000 messages/s on
// SQLite and 10,000-40,000/s on MariaDB, against about 2,000/s and 5,000/s
// with one INSERT per message). Rows of one batch are committed together, but two
// writes of one room that land in different batches may commit out of seq
// order; callers that must push in seq order serialize per room themselves.
// WriteAll stores a run of rows all or none even when it shares a batch with
// others: the live service stores one turn's run of seqs that way.
package model
