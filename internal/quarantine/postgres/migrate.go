package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// migrationFiles are the schema's history: NNNNN_description.sql goose
// migrations, applied in order, each once, each in its own transaction.
// Never edit a released file; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies the pending migrations to the database at url and
// returns; New does the same before it opens the store. It is for running
// migrations as a separate deployment step (dataquarantine migrate).
func Migrate(ctx context.Context, url string) error {
	cfg, err := parseURL(url)
	if err != nil {
		return err
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer pool.Close()
	return migrate(ctx, pool, slog.New(slog.DiscardHandler))
}

// migrate brings the schema to the newest migration, refusing a database
// whose schema is newer than this binary's.
func migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	dir, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("loading migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close() //nolint:errcheck // closes no pool connection: they return to the pool
	p, err := goose.NewProvider(goose.DialectPostgres, db, dir,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSessionLocker(schemaLocker{}),
		goose.WithSlog(logger.With("component", "migrations")),
		goose.WithVerbose(true),
	)
	if err != nil {
		return fmt.Errorf("loading migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("applying migrations: %w", err)
	}
	current, latest, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if current > latest {
		return fmt.Errorf("database schema version %d is newer than this binary's %d: refusing to use it", current, latest)
	}
	return nil
}

// schemaLocker serialises migrations of one schema across processes with a
// session advisory lock, waiting for it (goose's own locker polls every 5s).
// The lock is per schema, so stores in different schemas of one database
// migrate independently.
type schemaLocker struct{}

const migrationLockKey = `hashtextextended('dataquarantine migrations ' || coalesce(current_schema(), ''), 0)`

func (schemaLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+migrationLockKey+`)`); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	return nil
}

func (schemaLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(`+migrationLockKey+`)`).Scan(&released); err != nil {
		return fmt.Errorf("releasing the migration lock: %w", err)
	}
	if !released {
		return errors.New("releasing the migration lock: it was not held")
	}
	return nil
}
