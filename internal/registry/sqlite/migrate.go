package sqlite

import (
	"embed"
	"io/fs"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
)

// migrationFiles are the registry tables' history (NNNN_description.sql).
// Never edit a released file; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable records the applied migrations: not schema_version, so the
// registry's tables could share a file with the quarantine metadata without
// the two histories colliding.
const versionTable = "registry_schema_version"

// Migrations is the registry tables' history, for the migration runner:
// New applies it, the conformance suite exercises it.
func Migrations() migrate.Source {
	files, _ := fs.Sub(migrationFiles, "migrations") // a valid path: no error
	return migrate.Source{Files: files, Table: versionTable, Dialect: migrate.SQLite}
}
