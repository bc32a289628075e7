// Package dbtest opens throwaway databases for tests: a SQLite file in a
// temporary directory, or a uniquely named MySQL/MariaDB database that is
// dropped when the test ends.
//
//	func TestStore(t *testing.T) {
//		dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
//			if err := db.Migrate(t.Context(), gdb, &model.Message{}); err != nil {
//				t.Fatal(err)
//			}
//			// ... the same assertions on both drivers
//		})
//	}
//
// MSGO_TEST_MYSQL_DSN names the MySQL server (default
// root@tcp(127.0.0.1:3306)/test; its database is only used to connect). An
// unreachable server skips MySQL tests, unless CI is set, which fails them.
//
// Concurrency: every call makes its own database, so tests and packages may
// run in parallel; the returned handle is safe for concurrent use.
package dbtest
