package sqlite

import (
	"embed"
	"io/fs"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
)

// migrationFiles are the schema's history (NNNN_description.sql). Never
// edit a released file; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable records the applied migrations.
const versionTable = "schema_version"

// Migrations is the store's schema history, for the migration runner:
// New applies it, the conformance suite exercises it.
func Migrations() migrate.Source {
	files, _ := fs.Sub(migrationFiles, "migrations") // a valid path: no error
	return migrate.Source{Files: files, Table: versionTable, Dialect: migrate.SQLite}
}
