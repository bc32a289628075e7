package db

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// sqlitePragmas are applied to every SQLite connection unless the DSN names
// the same parameter.
//
//   - WAL lets readers run while a write is in progress.
//   - busy_timeout makes a connection that finds the file locked (another
//     process, e.g. `msgo migrate` beside a running server) wait instead of
//     failing at once; past it the error is SQLITE_BUSY, classified as
//     ErrUnavailable.
//   - _txlock=immediate takes the write lock at BEGIN, so a transaction that
//     reads before it writes cannot deadlock against another writer (SQLite
//     would fail such an upgrade with SQLITE_BUSY without waiting).
var sqlitePragmas = []struct{ key, value string }{
	{"_pragma", "journal_mode(WAL)"},
	{"_pragma", "busy_timeout(5000)"},
	{"_txlock", "immediate"},
}

func openSQLite(c Options, cfg *gorm.Config) (*gorm.DB, error) {
	dsn, err := sqliteDSN(c.DSN)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(sqlite.Open(dsn), cfg)
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite %s: %w", c.DSN, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite %s: %w", c.DSN, err)
	}
	// One connection: SQLite has one writer at a time, and queueing writers
	// in database/sql's pool hands the connection over at once, where
	// several connections would sleep in SQLite's busy handler and retry.
	// Measured in sqlite_test.go (BenchmarkSQLitePool); WAL readers gain
	// little from more connections on a pure-Go driver. It also makes
	// ":memory:" one shared database.
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	sqlDB.SetConnMaxLifetime(0)
	return db, nil
}

// sqliteDSN creates the database file's directory and adds the default
// pragmas to dsn.
func sqliteDSN(dsn string) (string, error) {
	if dsn == "" {
		return "", fmt.Errorf("db: sqlite: empty DSN")
	}
	path, rawQuery, _ := strings.Cut(dsn, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("db: sqlite DSN %q: %w", dsn, err)
	}
	if file := strings.TrimPrefix(path, "file:"); file != ":memory:" && file != "" {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return "", fmt.Errorf("db: sqlite: create directory: %w", err)
		}
	}
	for _, p := range sqlitePragmas {
		if !hasParam(query, p.key, p.value) {
			query.Add(p.key, p.value)
		}
	}
	return path + "?" + query.Encode(), nil
}

// hasParam reports whether query already sets what value sets: the same
// key, and for _pragma the same pragma name.
func hasParam(query url.Values, key, value string) bool {
	if key != "_pragma" {
		return query.Has(key)
	}
	for _, v := range query[key] {
		if strings.EqualFold(pragmaName(v), pragmaName(value)) {
			return true
		}
	}
	return false
}

// pragmaName returns "busy_timeout" for "busy_timeout(5000)" and
// "busy_timeout = 5000".
func pragmaName(p string) string {
	if i := strings.IndexAny(p, "(="); i >= 0 {
		p = p[:i]
	}
	return strings.TrimSpace(p)
}
