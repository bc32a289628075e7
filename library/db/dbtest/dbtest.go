package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"msgo/library/db"
)

// DefaultMySQLDSN is used when MSGO_TEST_MYSQL_DSN is not set.
const DefaultMySQLDSN = "root@tcp(127.0.0.1:3306)/test"

// SQLite opens a fresh SQLite database in a temporary directory. It is
// closed when the test ends.
func SQLite(t testing.TB) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(t.Context(), db.Options{
		Driver: db.DriverSQLite,
		DSN:    filepath.Join(t.TempDir(), "test.db"),
		Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() { db.Close(gdb) })
	return gdb
}

// MySQL creates a database with a unique name (msgo_test_<random>) on the
// server of MSGO_TEST_MYSQL_DSN (default DefaultMySQLDSN), opens it, and
// drops it when the test ends, so tests and packages running in parallel
// never share tables.
//
// When the server cannot be reached the test is skipped, or fails if the
// environment variable CI is set (CI must not pass by skipping).
func MySQL(t testing.TB) *gorm.DB {
	t.Helper()
	dsn := os.Getenv("MSGO_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = DefaultMySQLDSN
	}
	ctx := context.WithoutCancel(t.Context()) // cleanup runs after t.Context is canceled
	admin := open(t, dsn)
	if err := pingWithin(ctx, admin, 3*time.Second); err != nil {
		db.Close(admin)
		if errors.Is(err, db.ErrUnavailable) && os.Getenv("CI") == "" {
			t.Skipf("dbtest: MySQL unreachable (set MSGO_TEST_MYSQL_DSN): %v", err)
		}
		t.Fatalf("dbtest: MySQL: %v", err)
	}
	t.Cleanup(func() { db.Close(admin) })

	name := "msgo_test_" + randomHex(8)
	// Identifiers cannot be bound as parameters; name is generated above
	// from hex digits only.
	if err := admin.WithContext(ctx).Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin").Error; err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := admin.WithContext(ctx).Exec("DROP DATABASE IF EXISTS `" + name + "`").Error; err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})

	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	cfg.DBName = name
	gdb := open(t, cfg.FormatDSN())
	t.Cleanup(func() { db.Close(gdb) })
	return gdb
}

// Each runs fn as the subtests "sqlite" and "mysql", each with its own fresh
// database.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("mysql", func(t *testing.T) { fn(t, MySQL(t)) })
}

func open(t testing.TB, dsn string) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(t.Context(), db.Options{Driver: db.DriverMySQL, DSN: dsn, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return gdb
}

func pingWithin(ctx context.Context, gdb *gorm.DB, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return db.Ping(ctx, gdb)
}

// testLogger sends the database's warnings and errors to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
