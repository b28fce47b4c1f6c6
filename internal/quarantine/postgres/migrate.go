package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
	"github.com/dataquarantine/dataquarantine/internal/pgdb"
)

// migrationFiles are the schema's history: NNNNN_description.sql, in
// goose's annotated form (the first releases migrated with goose), each
// with its down part. Never edit a released file; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the store's schema history, for the migration runner: New
// and Migrate apply it, the conformance suite exercises it. It is
// recorded in goose's table, and takes the lock earlier releases took, so
// that a database of any release migrates on and processes of two
// releases starting together still migrate one at a time.
func Migrations() migrate.Source {
	files, _ := fs.Sub(migrationFiles, "migrations") // a valid path: no error
	return migrate.Source{
		Files: files, Table: "goose_db_version", Dialect: migrate.PostgresGoose,
		Lock: "dataquarantine migrations ",
	}
}

// Migrate applies the pending migrations to the database at url and
// returns; New does the same before it opens the store. It is for running
// migrations as a separate deployment step (dataquarantine migrate).
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgdb.ParseURL(url)
	if err != nil {
		return err
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer pool.Close()
	return migrateSchema(ctx, pool, slog.New(slog.DiscardHandler))
}

// migrateSchema brings the schema to the newest migration, refusing a
// database whose schema is newer than this binary's.
func migrateSchema(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close() //nolint:errcheck // closes no pool connection: they return to the pool
	if err := migrate.Up(ctx, db, Migrations(), logger); err != nil {
		return fmt.Errorf("applying migrations: %w", err)
	}
	return nil
}
