package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// Open opens the database file at path with the driver's parameters
// (params: _pragma, _txlock...) in a pool of conns connections, kept open
// for good. It connects at once, so that a bad path or a locked file fails
// Open, not the first query. Switching a new file to WAL takes an
// exclusive lock that SQLite does not wait for, so a process opening the
// file at the same moment as another is retried here, with the project's
// back-off, for up to busyTimeout.
func Open(path string, params url.Values, conns int, busyTimeout time.Duration) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	b := retry.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	deadline := time.Now().Add(busyTimeout)
	for attempt := 0; ; attempt++ {
		err = db.Ping()
		if err == nil {
			return db, nil
		}
		if code(err) != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			_ = db.Close()
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		retry.Sleep(context.Background(), b.Delay(attempt))
	}
}

// code returns the primary result code of a SQLite error, 0 for another
// error.
func code(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// Classify marks *errp with retry.ErrUnavailable when it is an outage of
// the database file, one the same request may survive later: the file
// locked by another process past the busy timeout (SQLITE_BUSY,
// SQLITE_LOCKED), out of memory, an I/O error, a full disk, a file that
// cannot be opened or a broken locking protocol. Every other error, such
// as a constraint violation, is left as it is. A driver's exported methods
// defer it on their error.
func Classify(errp *error) {
	switch code(*errp) {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		*errp = retry.Unavailable(*errp)
	}
}

// IsConstraint reports whether err is SQLite's SQLITE_CONSTRAINT (in any
// variant): a uniqueness or foreign key the row would break.
func IsConstraint(err error) bool { return code(err) == sqlite3.SQLITE_CONSTRAINT }
