package db_test

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"msgo/library/db"
	"msgo/library/db/dbtest"
)

type note struct {
	ID   int64  `gorm:"primaryKey"`
	Body string `gorm:"type:text"`
}

func TestOpenSQLiteCreatesDirectoryAndSetsPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "msgo.db")
	gdb, err := db.Open(t.Context(), db.Options{Driver: db.DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(gdb)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	var mode string
	var timeout int
	if err := gdb.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		t.Fatal(err)
	}
	if err := gdb.Raw("PRAGMA busy_timeout").Scan(&timeout).Error; err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || timeout != 5000 {
		t.Errorf("journal_mode=%q busy_timeout=%d, want wal 5000", mode, timeout)
	}
}

func TestOpenSQLiteKeepsGivenPragma(t *testing.T) {
	path := filepath.Join(t.TempDir(), "msgo.db") + "?_pragma=busy_timeout%3D100"
	gdb, err := db.Open(t.Context(), db.Options{Driver: db.DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(gdb)
	var timeout int
	if err := gdb.Raw("PRAGMA busy_timeout").Scan(&timeout).Error; err != nil {
		t.Fatal(err)
	}
	if timeout != 100 {
		t.Errorf("busy_timeout=%d, want the DSN's 100", timeout)
	}
}

func TestOpenUnknownDriver(t *testing.T) {
	if _, err := db.Open(t.Context(), db.Options{Driver: "postgres", DSN: "x"}); err == nil {
		t.Fatal("want an error")
	}
}

func TestOpenMySQLRefusesNonUTF8MB4(t *testing.T) {
	for _, dsn := range []string{
		"root@tcp(127.0.0.1:3306)/test?charset=utf8",
		"root@tcp(127.0.0.1:3306)/test?collation=latin1_swedish_ci",
	} {
		if _, err := db.Open(t.Context(), db.Options{Driver: db.DriverMySQL, DSN: dsn}); err == nil {
			t.Errorf("%s: want an error", dsn)
		}
	}
}

// A server that is down at start must not stop the process from starting:
// Open succeeds and every query fails fast with ErrUnavailable.
func TestOpenMySQLUnreachableStartsDegraded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused

	var logs bytes.Buffer
	start := time.Now()
	gdb, err := db.Open(t.Context(), db.Options{
		Driver: db.DriverMySQL,
		DSN:    "root@tcp(" + addr + ")/test",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close(gdb)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %v", d)
	}
	if !strings.Contains(logs.String(), "unreachable") {
		t.Errorf("no warning logged: %q", logs.String())
	}
	err = gdb.WithContext(t.Context()).Create(&note{Body: "x"}).Error
	if !errors.Is(db.Classify(err), db.ErrUnavailable) {
		t.Errorf("query error %v, want ErrUnavailable", err)
	}
	if err := db.Ping(t.Context(), gdb); !errors.Is(err, db.ErrUnavailable) {
		t.Errorf("Ping: %v, want ErrUnavailable", err)
	}
}

// Wrong credentials are a configuration error: Open fails instead of
// starting degraded.
func TestOpenMySQLBadCredentialsFails(t *testing.T) {
	dbtest.MySQL(t) // skips when no server
	dsn := os.Getenv("MSGO_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = dbtest.DefaultMySQLDSN
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Passwd = "msgo_no_such_user", "wrong"
	_, err = db.Open(t.Context(), db.Options{Driver: db.DriverMySQL, DSN: cfg.FormatDSN()})
	if err == nil || errors.Is(err, db.ErrUnavailable) {
		t.Fatalf("Open: %v, want a configuration error", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestMigrateAndClosedDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		if err := db.Migrate(t.Context(), gdb, &note{}); err != nil {
			t.Fatal(err)
		}
		if gdb.Dialector.Name() == db.DriverMySQL {
			var collation string
			err := gdb.Raw("SELECT table_collation FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", "notes").Scan(&collation).Error
			if err != nil || (collation != "utf8mb4_nopad_bin" && collation != "utf8mb4_0900_bin") {
				t.Errorf("table collation %q, %v; want a NO PAD binary one", collation, err)
			}
		}
		body := "😀 '\"); DROP TABLE notes; --"
		if err := gdb.Create(&note{Body: body}).Error; err != nil {
			t.Fatal(err)
		}
		var got note
		if err := gdb.First(&got).Error; err != nil || got.Body != body {
			t.Fatalf("got %q, %v", got.Body, err)
		}
		if err := db.Ping(t.Context(), gdb); err != nil {
			t.Fatal(err)
		}

		db.Close(gdb)
		err := gdb.First(&got).Error
		if !errors.Is(db.Classify(err), db.ErrUnavailable) {
			t.Errorf("closed database: %v, want ErrUnavailable", err)
		}
		if err := db.Migrate(t.Context(), gdb, &note{}); !errors.Is(err, db.ErrUnavailable) {
			t.Errorf("Migrate on closed database: %v, want ErrUnavailable", err)
		}
	})
}

type codeErr int

func (c codeErr) Error() string { return fmt.Sprintf("sqlite code %d", int(c)) }
func (c codeErr) Code() int     { return int(c) }

func TestClassify(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{driver.ErrBadConn, true},
		{mysql.ErrInvalidConn, true},
		{opErr, true},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), true},
		{&mysql.MySQLError{Number: 2006, Message: "server has gone away"}, true},
		{&mysql.MySQLError{Number: 1040, Message: "too many connections"}, true},
		{codeErr(5), true},        // SQLITE_BUSY
		{codeErr(5 | 2<<8), true}, // an extended SQLITE_BUSY code
		{errors.New("sql: database is closed"), true},
		{context.Canceled, false},
		{gorm.ErrRecordNotFound, false},
		{gorm.ErrDuplicatedKey, false},
		{&mysql.MySQLError{Number: 1062, Message: "duplicate entry"}, false},
		{&mysql.MySQLError{Number: 1045, Message: "access denied"}, false},
		{codeErr(19), false}, // SQLITE_CONSTRAINT
	} {
		got := db.Classify(tc.err)
		if errors.Is(got, db.ErrUnavailable) != tc.want {
			t.Errorf("Classify(%v) = %v, unavailable want %v", tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("Classify(%v) lost the original error", tc.err)
		}
	}
	if db.Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	once := db.Classify(driver.ErrBadConn)
	if db.Classify(once) != once {
		t.Error("Classify wraps twice")
	}
}

func TestLoggerNeverLogsArguments(t *testing.T) {
	gdb, logs := openLogged(t, slog.LevelDebug)
	if err := db.Migrate(t.Context(), gdb, &note{}); err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&note{Body: "secret-body"}).Error; err != nil {
		t.Fatal(err)
	}
	var n note
	if err := gdb.Where("body = ?", "secret-where").First(&n).Error; !errors.Is(err, gorm.ErrRecordNotFound) {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Contains(out, "secret") {
		t.Errorf("arguments logged:\n%s", out)
	}
	if !strings.Contains(out, "body = ?") {
		t.Errorf("query not logged at debug with placeholders:\n%s", out)
	}
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("record not found logged as an error:\n%s", out)
	}
}

func TestLoggerWarnsOnSlowQueries(t *testing.T) {
	gdb, logs := openLogged(t, slog.LevelWarn)
	gdb.Logger.Trace(t.Context(), time.Now().Add(-db.SlowQuery-time.Millisecond),
		func() (string, int64) { return "SELECT 1", 1 }, nil)
	gdb.Logger.Trace(t.Context(), time.Now(), func() (string, int64) { return "SELECT 2", 1 }, nil)
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "SELECT 1") || strings.Contains(out, "SELECT 2") {
		t.Errorf("want one slow-query warning for SELECT 1:\n%s", out)
	}

	logs.Reset()
	long := "INSERT INTO t VALUES " + strings.Repeat("(?,?),", 5000)
	gdb.Logger.Trace(t.Context(), time.Now().Add(-time.Second), func() (string, int64) { return long, 5000 }, nil)
	if n := logs.Len(); n > 2000 || !strings.Contains(logs.String(), "bytes)") {
		t.Errorf("a long statement logged in %d bytes, want it cut", n)
	}
}

// openLogged opens a SQLite database whose log records at level and above
// land in the returned buffer.
func openLogged(t *testing.T, level slog.Level) (*gorm.DB, *bytes.Buffer) {
	var logs bytes.Buffer
	gdb, err := db.Open(t.Context(), db.Options{
		Driver: db.DriverSQLite,
		DSN:    filepath.Join(t.TempDir(), "msgo.db"),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(gdb) })
	return gdb, &logs
}
