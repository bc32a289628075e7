package apptest

import (
	"testing"

	"gorm.io/gorm"

	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/cache/cachetest"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// Topology is how many nodes a test runs on.
type Topology struct {
	Name  string
	Nodes int
}

// Topologies are a lone node (the embedded default) and a three-node cluster.
var Topologies = []Topology{{"one-node", 1}, {"three-nodes", 3}}

// Each runs fn as a subtest per topology and database, on a fresh database
// with models migrated and one store per node.
func Each(t *testing.T, models []any, fn func(t *testing.T, stores []cache.Store, gdb *gorm.DB)) {
	for _, top := range Topologies {
		t.Run(top.Name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
				fn(t, Stores(t, top.Nodes), Migrated(t, gdb, models...))
			})
		})
	}
}

// Migrated migrates models on gdb and returns it.
func Migrated(t testing.TB, gdb *gorm.DB, models ...any) *gorm.DB {
	t.Helper()
	if err := db.Migrate(t.Context(), gdb, models...); err != nil {
		t.Fatal(err)
	}
	return gdb
}

// Stores returns one store per node: for a lone node nil (its own memory
// store, which msgotest makes), for several Redis stores sharing a fresh
// prefix, so they form one cluster.
func Stores(t testing.TB, n int) []cache.Store {
	t.Helper()
	stores := make([]cache.Store, n)
	if n > 1 {
		for i, r := range cachetest.RedisNodes(t, n) {
			stores[i] = r
		}
	}
	return stores
}

// DatabaseDown runs check on nodes whose database is unreachable: on every
// topology with the database closed under them, and on one node pointed at
// a MySQL port nothing listens on. start builds n nodes on a database.
func DatabaseDown(t *testing.T, models []any, start func(t testing.TB, gdb *gorm.DB, n int) []*msgotest.Server, check func(t *testing.T, nodes []*msgotest.Server)) {
	for _, top := range Topologies {
		t.Run(top.Name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
				nodes := start(t, Migrated(t, gdb, models...), top.Nodes)
				db.Close(gdb)
				check(t, nodes)
			})
		})
	}
	t.Run("mysql-dead-port", func(t *testing.T) {
		gdb, err := db.Open(t.Context(), db.Options{Driver: db.DriverMySQL, DSN: "root@tcp(127.0.0.1:1)/test?timeout=1s"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close(gdb) })
		check(t, start(t, gdb, 1))
	})
}
