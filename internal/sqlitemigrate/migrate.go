// Package sqlitemigrate applies versioned SQL migrations to a SQLite
// database: the one migration runner of the project's SQLite stores (the
// quarantine metadata and the schema registry), so both get the same
// guarantees: each file applied once, in order, in its own transaction,
// and safe when two processes open a new database at the same moment.
package sqlitemigrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one NNNN_description.sql file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads dir/*.sql from fsys: files named NNNN_description.sql whose
// versions run 1, 2, 3... without gaps. Never edit a released file; add the
// next one.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	paths, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var ms []Migration
	for _, p := range paths {
		base := strings.TrimSuffix(path.Base(p), ".sql")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version number", p)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", p, err)
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := range ms {
		if ms[i].Version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3... without gaps", ms[i].Name)
		}
	}
	return ms, nil
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Apply brings db to the newest of ms, recording applied versions in
// table (callers sharing a file use different tables, so their histories
// never collide). db must be the writer connection, whose transactions
// BEGIN IMMEDIATE: two processes opening one file at once then apply each
// migration exactly once. A database newer than ms is refused.
func Apply(ctx context.Context, db *sql.DB, table string, ms []Migration) error {
	if !identifier.MatchString(table) {
		return fmt.Errorf("migration table name %q is not a plain identifier", table)
	}
	// In a transaction, which BEGINs IMMEDIATE, so that a concurrent
	// opener waits for the write lock instead of failing to upgrade a read.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("creating %s: %w", table, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("creating %s: %w", table, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("creating %s: %w", table, err)
	}
	for _, m := range ms {
		if err := apply(ctx, db, table, m, len(ms)); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, table string, m Migration, latest int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	defer func() { _ = tx.Rollback() }()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&current); err != nil {
		return fmt.Errorf("reading the schema version from %s: %w", table, err)
	}
	if current > latest {
		return fmt.Errorf("database schema version %d (%s) is newer than this binary's %d: refusing to use it", current, table, latest)
	}
	if current >= m.Version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("applying migration %s: %w", m.Name, err)
	}
	// table is a checked plain identifier (Apply), never input.
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version, name, applied_at) VALUES (?, ?, ?)`, //nolint:gosec // see above
		m.Version, m.Name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("recording migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migration %s: %w", m.Name, err)
	}
	return nil
}
