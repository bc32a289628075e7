// Package apptest runs a module's tests the way msgo runs: on one node with
// the embedded memory store and on three nodes sharing Redis, each on SQLite
// and on MariaDB.
//
//	apptest.Each(t, live.Models(), func(t *testing.T, stores []cache.Store, gdb *gorm.DB) {
//		nodes := startNodes(t, gdb, stores) // one msgotest node per store
//		...
//	})
//
// The Redis and MariaDB runs fail in CI when those are unreachable and are
// skipped elsewhere (cachetest, dbtest). Helpers are for one test goroutine.
package apptest
