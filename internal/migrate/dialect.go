package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Dialect is a database's SQL for the runner: how migrations of one
// history are serialised, and how its version table is laid out. The
// dialects are this package's: SQLite, Postgres and PostgresGoose.
type Dialect interface {
	// lock serialises migrations of the history lockName names; unlock
	// releases it.
	lock(ctx context.Context, conn *sql.Conn, lockName string) (unlock func(context.Context) error, err error)
	createTable(ctx context.Context, tx *sql.Tx, table string) error
	// version is the newest applied version, 0 when none.
	version(ctx context.Context, tx *sql.Tx, table string) (int, error)
	record(ctx context.Context, tx *sql.Tx, table string, version int, name string) error
	unrecord(ctx context.Context, tx *sql.Tx, table string, version int) error
}

// The dialects. Table names reach their SQL only after open checked them
// as plain identifiers.
var (
	// SQLite: the version table is (version, name, applied_at in Unix
	// nanoseconds), STRICT. Migrations are serialised by the writer's
	// transactions, which BEGIN IMMEDIATE.
	SQLite Dialect = sqliteDialect{}
	// Postgres: the version table is (version, name, applied_at
	// timestamptz), and a session advisory lock serialises migrations.
	Postgres Dialect = postgresDialect{}
	// PostgresGoose is Postgres with goose's version table
	// (id, version_id, is_applied, tstamp, and a row for version 0),
	// which the quarantine store's databases have had since their
	// first release.
	PostgresGoose Dialect = gooseDialect{}
)

type sqliteDialect struct{}

func (sqliteDialect) lock(context.Context, *sql.Conn, string) (func(context.Context) error, error) {
	return func(context.Context) error { return nil }, nil
}

func (sqliteDialect) createTable(ctx context.Context, tx *sql.Tx, table string) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`)
	return err
}

func (sqliteDialect) version(ctx context.Context, tx *sql.Tx, table string) (v int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&v)
	return v, err
}

func (sqliteDialect) record(ctx context.Context, tx *sql.Tx, table string, version int, name string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version, name, applied_at) VALUES (?, ?, ?)`, //nolint:gosec // a checked identifier
		version, name, time.Now().UnixNano())
	return err
}

func (sqliteDialect) unrecord(ctx context.Context, tx *sql.Tx, table string, version int) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE version = ?`, version) //nolint:gosec // a checked identifier
	return err
}

// postgresLock is a session advisory lock, waited for, keyed by the lock
// name and the current schema.
type postgresLock struct{}

const lockKey = `hashtextextended($1 || coalesce(current_schema(), ''), 0)`

func (postgresLock) lock(ctx context.Context, conn *sql.Conn, name string) (func(context.Context) error, error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`, name); err != nil {
		return nil, fmt.Errorf("taking the migration lock: %w", err)
	}
	return func(ctx context.Context) error {
		var released bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`, name).Scan(&released); err != nil {
			return fmt.Errorf("releasing the migration lock: %w", err)
		}
		if !released {
			return errors.New("releasing the migration lock: it was not held")
		}
		return nil
	}, nil
}

type postgresDialect struct{ postgresLock }

func (postgresDialect) createTable(ctx context.Context, tx *sql.Tx, table string) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		version    INTEGER     NOT NULL PRIMARY KEY,
		name       TEXT        NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`)
	return err
}

func (postgresDialect) version(ctx context.Context, tx *sql.Tx, table string) (v int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&v)
	return v, err
}

func (postgresDialect) record(ctx context.Context, tx *sql.Tx, table string, version int, name string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version, name) VALUES ($1, $2)`, version, name) //nolint:gosec // a checked identifier
	return err
}

func (postgresDialect) unrecord(ctx context.Context, tx *sql.Tx, table string, version int) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE version = $1`, version) //nolint:gosec // a checked identifier
	return err
}

// gooseDialect reads and writes goose's version table as goose v3 did:
// created with a row for version 0, a row per migration applied, deleted
// when it is reverted, the current version being the highest.
type gooseDialect struct{ postgresLock }

func (gooseDialect) createTable(ctx context.Context, tx *sql.Tx, table string) error {
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables
		WHERE (current_schema() IS NULL OR schemaname = current_schema()) AND tablename = $1)`, table).Scan(&exists); err != nil || exists {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE `+table+` (
		id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
		version_id bigint NOT NULL,
		is_applied boolean NOT NULL,
		tstamp timestamp NOT NULL DEFAULT now()
	)`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version_id, is_applied) VALUES (0, true)`) //nolint:gosec // a checked identifier
	return err
}

func (gooseDialect) version(ctx context.Context, tx *sql.Tx, table string) (v int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM `+table).Scan(&v)
	return v, err
}

func (gooseDialect) record(ctx context.Context, tx *sql.Tx, table string, version int, _ string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version_id, is_applied) VALUES ($1, true)`, version) //nolint:gosec // a checked identifier
	return err
}

func (gooseDialect) unrecord(ctx context.Context, tx *sql.Tx, table string, version int) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE version_id = $1`, version) //nolint:gosec // a checked identifier
	return err
}
