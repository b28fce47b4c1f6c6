package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationFiles are the registry tables' history: NNNN_description.sql,
// applied in order, each once, each in its own transaction, recorded in
// registry_schema_version (apart from the quarantine store's goose
// history, so the two evolve independently in one database). Never edit
// a released file; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	paths, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var ms []migration
	for _, p := range paths {
		base := strings.TrimSuffix(p[strings.LastIndexByte(p, '/')+1:], ".sql")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version number", p)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", p, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := range ms {
		if ms[i].version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3... without gaps", ms[i].name)
		}
	}
	return ms, nil
}

// migrationLock serialises migrations of one schema across processes; it
// is per schema, so registries in different schemas migrate independently.
const migrationLock = `SELECT pg_advisory_xact_lock(hashtextextended('dataquarantine registry migrations ' || coalesce(current_schema(), ''), 0))`

// migrate brings the registry tables to the newest migration, in one
// transaction holding the lock, refusing a database newer than this binary.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migration) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, migrationLock); err != nil {
			return fmt.Errorf("locking for migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS registry_schema_version (
			version    INTEGER     NOT NULL PRIMARY KEY,
			name       TEXT        NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("creating registry_schema_version: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM registry_schema_version`).Scan(&current); err != nil {
			return fmt.Errorf("reading registry schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("registry schema version %d is newer than this binary's %d: refusing to use it", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("applying migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO registry_schema_version (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("recording migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}
