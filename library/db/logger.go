package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// SlowQuery is the duration past which a query is logged at warn level.
const SlowQuery = 200 * time.Millisecond

// maxLoggedSQL caps the SQL text in a log record: a batch INSERT of 500
// rows would otherwise write a 20 KB line of placeholders.
const maxLoggedSQL = 1024

// logger adapts gorm's logger to slog.
//
// SQL is always logged with its placeholders and never with its arguments:
// they are users' messages and ids. Failed queries log at error level
// (record-not-found and a canceled context are not failures and log only at
// debug), slow
// ones at warn, and every query at debug.
type logger struct {
	log   *slog.Logger
	level gormlogger.LogLevel
}

var (
	_ gormlogger.Interface = (*logger)(nil)
	_ gorm.ParamsFilter    = (*logger)(nil)
)

func newLogger(log *slog.Logger) *logger {
	return &logger{log: log, level: gormlogger.Info}
}

// LogMode returns a copy logging at level; gorm's db.Debug() uses it.
func (l *logger) LogMode(level gormlogger.LogLevel) gormlogger.Interface {
	c := *l
	c.level = level
	return &c
}

// Info logs a gorm message at info level.
func (l *logger) Info(ctx context.Context, msg string, args ...any) {
	l.message(ctx, gormlogger.Info, slog.LevelInfo, msg, args)
}

// Warn logs a gorm message at warn level.
func (l *logger) Warn(ctx context.Context, msg string, args ...any) {
	l.message(ctx, gormlogger.Warn, slog.LevelWarn, msg, args)
}

// Error logs a gorm message at error level.
func (l *logger) Error(ctx context.Context, msg string, args ...any) {
	l.message(ctx, gormlogger.Error, slog.LevelError, msg, args)
}

func (l *logger) message(ctx context.Context, min gormlogger.LogLevel, level slog.Level, msg string, args []any) {
	if l.level >= min {
		l.log.Log(ctx, level, "gorm: "+fmt.Sprintf(msg, args...))
	}
}

// Trace logs one executed statement.
func (l *logger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.level <= gormlogger.Silent {
		return
	}
	elapsed := time.Since(begin)
	var level slog.Level
	switch {
	case err != nil && !quietError(err) && l.level >= gormlogger.Error:
		level = slog.LevelError
	case elapsed > SlowQuery && l.level >= gormlogger.Warn:
		level = slog.LevelWarn
	default:
		level = slog.LevelDebug
	}
	if !l.log.Enabled(ctx, level) {
		return // skip building the SQL text
	}
	sql, rows := fc()
	if len(sql) > maxLoggedSQL {
		sql = fmt.Sprintf("%s... (%d bytes)", sql[:maxLoggedSQL], len(sql))
	}
	attrs := []slog.Attr{slog.Duration("elapsed", elapsed), slog.String("sql", sql), slog.Int64("rows", rows)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	msg := "db: query"
	if level == slog.LevelWarn {
		msg = "db: slow query"
	}
	l.log.LogAttrs(ctx, level, msg, attrs...)
}

// quietError reports errors that are answers rather than failures: no
// record, or a caller that went away.
func quietError(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, context.Canceled)
}

// ParamsFilter drops the arguments from the SQL that gorm builds for Trace.
func (l *logger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
