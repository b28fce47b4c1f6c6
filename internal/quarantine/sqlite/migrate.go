package sqlite

import "embed"

// migrationFiles are the schema's history (NNNN_description.sql), applied
// by sqlitemigrate and recorded in schema_version. Never edit a released
// file; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable records the applied migrations.
const versionTable = "schema_version"
