// Package sqlitedb owns what the SQLite drivers (the quarantine metadata
// store and the schema registry's store) share: opening a database file
// the way they use it (Open: a writer of one connection, a read-only pool,
// each connected at once, waiting out another process switching a new
// file to WAL), and telling SQLite's outages from every other error
// (Classify), which the drivers mark with retry.ErrUnavailable on their way
// out, so that nothing above a driver needs SQLite's error codes.
package sqlitedb
