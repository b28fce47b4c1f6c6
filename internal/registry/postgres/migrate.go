package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
)

// migrationFiles are the registry tables' history: NNNN_description.sql,
// recorded in registry_schema_version (apart from the quarantine store's
// history, so the two evolve independently in one database). Never edit
// a released file; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the registry tables' history, for the migration runner:
// New applies it, the conformance suite exercises it. Its lock is the one
// earlier releases took, so that processes of two releases starting
// together still migrate one at a time.
func Migrations() migrate.Source {
	files, _ := fs.Sub(migrationFiles, "migrations") // a valid path: no error
	return migrate.Source{
		Files: files, Table: "registry_schema_version", Dialect: migrate.Postgres,
		Lock: "dataquarantine registry migrations ",
	}
}

// migrateTables brings the registry tables to the newest migration.
func migrateTables(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close() //nolint:errcheck // closes no pool connection: they return to the pool
	if err := migrate.Up(ctx, db, Migrations(), nil); err != nil {
		return fmt.Errorf("migrating the registry tables: %w", err)
	}
	return nil
}
