package db

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// Drivers accepted in Options.Driver.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Defaults applied by Open to zero Options fields.
const (
	DefaultMySQLMaxOpenConns = 32
	DefaultMySQLMaxIdleConns = 8
	DefaultConnMaxLifetime   = 5 * time.Minute
	// DefaultProbeTimeout bounds the reachability check Open makes on MySQL.
	DefaultProbeTimeout = 3 * time.Second
)

// Options configures Open.
type Options struct {
	// Driver is DriverSQLite or DriverMySQL.
	Driver string
	// DSN is a file path for SQLite (its directory is created; ":memory:"
	// works too) or a go-sql-driver DSN for MySQL
	// ("user:pass@tcp(host:3306)/name?...").
	DSN string
	// MaxOpenConns caps the pool. For SQLite it is always 1: see sqlite.go.
	MaxOpenConns int
	// MaxIdleConns caps the idle connections kept in the pool.
	MaxIdleConns int
	// ConnMaxLifetime recycles connections older than this; it lets a
	// MySQL pool follow a failover and stay under wait_timeout.
	ConnMaxLifetime time.Duration
	// Logger receives slow queries and errors; nil means slog.Default().
	Logger *slog.Logger
}

// Open connects to the database described by c and returns a gorm handle
// that is safe for concurrent use.
//
// Configuration errors (unknown driver, malformed DSN, wrong credentials,
// unknown database) fail Open. A MySQL server that cannot be reached does not:
// Open logs a warning and returns a working handle whose queries fail with
// ErrUnavailable until the server answers, so the process can start, answer
// 503 for database work, and recover by itself when the server comes back.
func Open(ctx context.Context, c Options) (*gorm.DB, error) {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg := &gorm.Config{
		Logger: newLogger(log),
		// Every store call is one statement or opens its own transaction;
		// gorm's implicit BEGIN/COMMIT around single statements would only
		// add round trips.
		SkipDefaultTransaction: true,
		// Duplicate keys surface as gorm.ErrDuplicatedKey on both drivers.
		TranslateError: true,
		// Open checks reachability itself, with a deadline (see openMySQL).
		DisableAutomaticPing: true,
	}
	switch c.Driver {
	case DriverSQLite:
		return openSQLite(c, cfg)
	case DriverMySQL:
		return openMySQL(ctx, c, cfg, log)
	default:
		return nil, fmt.Errorf("db: unknown driver %q (want %q or %q)", c.Driver, DriverSQLite, DriverMySQL)
	}
}

// Close closes the connection pool behind db.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("db: close: %w", err)
	}
	return sqlDB.Close()
}

// Ping checks that the database answers, for readiness probes. Its error is
// classified (see Classify).
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("db: ping: %w", Classify(err))
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
