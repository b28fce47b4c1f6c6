package sqlite

import "embed"

// migrationFiles are the registry tables' history (NNNN_description.sql),
// applied by sqlitemigrate. Never edit a released file; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable records the applied migrations: not schema_version, so the
// registry's tables could share a file with the quarantine metadata without
// the two histories colliding.
const versionTable = "registry_schema_version"
