package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
)

// ErrUnavailable marks an error caused by the database being out of reach:
// refused or dropped connections, timeouts, a closed pool, a server shutting
// down, or a SQLite file that stayed locked past the busy timeout. Nothing was
// stored when a write fails with it. Callers map it to status 503 with
// errors.Is.
var ErrUnavailable = errors.New("db: database unavailable")

// Classify returns err wrapped with ErrUnavailable when it is a
// connection-level failure, and err unchanged otherwise (nil stays nil).
// The original error stays reachable through errors.Is and errors.As.
//
// context.DeadlineExceeded counts as unavailable (a database too slow to answer
// in time is, to the caller, not there); context.Canceled does not, because the
// caller gave up on its own.
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// mysqlUnavailable lists MySQL/MariaDB server error numbers that mean the
// server cannot serve us right now, as opposed to a fault in the statement.
var mysqlUnavailable = map[uint16]bool{
	1040: true, // ER_CON_COUNT_ERROR: too many connections
	1053: true, // ER_SERVER_SHUTDOWN
	1205: true, // ER_LOCK_WAIT_TIMEOUT: nothing was written, try later
	1290: true, // ER_OPTION_PREVENTS_STATEMENT: --read-only during a failover
	1317: true, // ER_QUERY_INTERRUPTED
	1927: true, // ER_CONNECTION_KILLED (MariaDB)
	2002: true, // CR_CONNECTION_ERROR
	2003: true, // CR_CONN_HOST_ERROR
	2006: true, // CR_SERVER_GONE_ERROR
	2013: true, // CR_SERVER_LOST
}

// SQLite primary result codes that mean the file cannot be written now.
const (
	sqliteBusy      = 5  // SQLITE_BUSY: locked past busy_timeout
	sqliteLocked    = 6  // SQLITE_LOCKED
	sqliteInterrupt = 9  // a deadline interrupted the statement
	sqliteIOErr     = 10 // SQLITE_IOERR
	sqliteFull      = 13 // SQLITE_FULL: disk full
	sqliteCantOpen  = 14 // SQLITE_CANTOPEN
)

func unavailable(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return mysqlUnavailable[myErr.Number]
	}
	var codeErr interface{ Code() int }
	if errors.As(err, &codeErr) {
		switch codeErr.Code() & 0xff { // extended codes keep the primary code in the low byte
		case sqliteBusy, sqliteLocked, sqliteInterrupt, sqliteIOErr, sqliteFull, sqliteCantOpen:
			return true
		}
	}
	// database/sql does not export its "database is closed" error.
	return strings.Contains(err.Error(), "sql: database is closed")
}
