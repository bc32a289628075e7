package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
)

// Timeouts put into a MySQL DSN that sets none, so that an unreachable
// server fails a query in seconds instead of hanging a handler.
const (
	mysqlDialTimeout  = 2 * time.Second
	mysqlReadTimeout  = 5 * time.Second
	mysqlWriteTimeout = 5 * time.Second
)

func openMySQL(ctx context.Context, c Options, cfg *gorm.Config, log *slog.Logger) (*gorm.DB, error) {
	dsn, err := mysqlConfig(c.DSN)
	if err != nil {
		return nil, err
	}
	connector, err := mysql.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: mysql DSN: %w", err)
	}
	sqlDB := sql.OpenDB(connector) // does not dial
	sqlDB.SetMaxOpenConns(orDefault(c.MaxOpenConns, DefaultMySQLMaxOpenConns))
	sqlDB.SetMaxIdleConns(orDefault(c.MaxIdleConns, DefaultMySQLMaxIdleConns))
	sqlDB.SetConnMaxLifetime(orDefault(c.ConnMaxLifetime, DefaultConnMaxLifetime))

	dialector := gormmysql.Config{Conn: sqlDB, DSNConfig: dsn}
	if err := probeMySQL(ctx, sqlDB); err != nil {
		if !errors.Is(err, ErrUnavailable) {
			sqlDB.Close()
			return nil, fmt.Errorf("db: open mysql %s: %w", redact(dsn), err)
		}
		// Start anyway; the pool dials again on every query. Without the
		// server version gorm cannot tell MySQL from MariaDB, so use the
		// syntax both understand (it only matters to migrations).
		log.Warn("db: mysql unreachable at start; queries fail until it answers",
			"addr", dsn.Addr, "db", dsn.DBName, "error", err)
		dialector.SkipInitializeWithVersion = true
		dialector.DontSupportRenameIndex = true
		dialector.DontSupportRenameColumn = true
		dialector.DontSupportForShareClause = true
		dialector.DontSupportNullAsDefaultValue = true
	}
	db, err := gorm.Open(gormmysql.New(dialector), cfg)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("db: open mysql %s: %w", redact(dsn), Classify(err))
	}
	return db, nil
}

// probeMySQL checks that the server answers within DefaultProbeTimeout.
func probeMySQL(ctx context.Context, sqlDB *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultProbeTimeout)
	defer cancel()
	return Classify(sqlDB.PingContext(ctx))
}

// mysqlConfig parses dsn and fills in what msgo relies on:
//   - parseTime, so DATETIME columns scan into time.Time;
//   - loc=Local when no loc is given, matching how PHP apps sharing the
//     database write DATETIME values (msgo's own times are unix ms integers);
//   - charset utf8mb4, because messages carry emoji; a DSN asking for another
//     charset is refused rather than silently mangling them;
//   - dial/read/write timeouts (2s/5s/5s) when none are given;
//   - interpolateParams, which lets the driver escape arguments client-side
//     (safe with utf8mb4) so a query is one round trip instead of three
//     (prepare, execute, close). Queries still pass arguments separately.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: mysql DSN: %w", err)
	}
	cfg.ParseTime = true
	if !dsnHas(dsn, "loc") {
		cfg.Loc = time.Local
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	switch cs := cfg.Params["charset"]; {
	case cs == "":
		cfg.Params["charset"] = "utf8mb4"
	case cs != "utf8mb4":
		return nil, fmt.Errorf("db: mysql DSN: charset %q cannot store emoji; use utf8mb4", cs)
	}
	if cfg.Collation != "" && !strings.HasPrefix(cfg.Collation, "utf8mb4") {
		return nil, fmt.Errorf("db: mysql DSN: collation %q cannot store emoji; use a utf8mb4 one", cfg.Collation)
	}
	cfg.Timeout = orDefault(cfg.Timeout, mysqlDialTimeout)
	cfg.ReadTimeout = orDefault(cfg.ReadTimeout, mysqlReadTimeout)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, mysqlWriteTimeout)
	if !dsnHas(dsn, "interpolateParams") {
		cfg.InterpolateParams = true
	}
	return cfg, nil
}

// dsnHas reports whether the DSN's query string sets param.
func dsnHas(dsn, param string) bool {
	_, query, ok := strings.Cut(dsn, "?")
	if !ok {
		return false
	}
	for kv := range strings.SplitSeq(query, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == param {
			return true
		}
	}
	return false
}

// redact names the server without the password, for errors and logs.
func redact(cfg *mysql.Config) string {
	return cfg.User + "@" + cfg.Net + "(" + cfg.Addr + ")/" + cfg.DBName
}
