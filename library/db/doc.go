// Package db opens the relational database behind msgo's persisted modules
// (kefu chat, live message history): SQLite through a pure-Go driver by
// default, MySQL/MariaDB in production, both through gorm.
//
//	gdb, err := db.Open(ctx, db.Options{Driver: db.DriverSQLite, DSN: "runtime/msgo.db"})
//	if err != nil {
//		return err
//	}
//	defer db.Close(gdb)
//	if err := db.Migrate(ctx, gdb, &model.Message{}); err != nil {
//		return err
//	}
//	...
//	if err := store.Insert(ctx, m); errors.Is(err, db.ErrUnavailable) {
//		// answer 503: nothing was stored
//	}
//
// What Open decides:
//
//   - SQLite runs in WAL mode with a 5 s busy_timeout, immediate
//     transactions and a one-connection pool: SQLite has one writer, and
//     queueing in database/sql measured faster, with a far shorter tail, than
//     several connections retrying in SQLite's busy handler
//     (BenchmarkSQLitePool). synchronous stays FULL: a reply promises the
//     row is stored, and batching writers (see app/live/model.Writer) pay one
//     fsync per batch.
//   - MySQL DSNs get parseTime, utf8mb4, loc=Local and short timeouts unless
//     they say otherwise. A server that is down at start does not fail Open:
//     the handle works and queries fail with ErrUnavailable until it is back.
//     Wrong credentials or an unknown database do fail Open.
//   - Single statements run without gorm's implicit transaction, and
//     duplicate keys come back as gorm.ErrDuplicatedKey on both drivers.
//
// Store code passes its errors through Classify, so that callers can tell
// "the database is not there" (ErrUnavailable, status 503) from anything else.
//
// Concurrency: the *gorm.DB returned by Open is safe for concurrent use by
// any number of goroutines; Classify and the logger are stateless.
package db
