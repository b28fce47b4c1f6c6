// Package migrate owns the one migration runner of the project's SQL
// stores: the quarantine metadata and the schema registry, each in SQLite
// and in PostgreSQL. As in River, the runner is one and each driver ships
// its history: a Source names the driver's migration files (an embedded
// directory of NNNN_description.sql), the table recording which are
// applied, and the Dialect, which says how the database is locked and how
// that table is laid out.
//
// Up brings a database to the newest file: each migration applied once,
// in order, in its own transaction with its version row, so a failure
// leaves the database at the last migration that succeeded. Several
// processes opening one database at once are safe: PostgreSQL's are
// serialised by an advisory lock per history and schema, SQLite's by
// transactions that BEGIN IMMEDIATE. A database whose history is newer
// than the binary's files (after a rollback of the binary) is refused, not
// used. Down reverts migrations, for histories whose files carry their
// reversal.
//
// Every store's version table is read and written in the layout it has
// always had (Dialect), so a database made by an earlier release migrates
// on: the PostgreSQL quarantine store's history is goose's goose_db_version,
// as goose wrote it before this runner replaced it.
//
// migratetest is the conformance suite each driver runs over its Source.
package migrate
