// Package pgdb owns what the PostgreSQL drivers (the quarantine metadata
// store and the schema registry's store) share: parsing a connection URL
// without ever repeating its password (ParseURL), and telling PostgreSQL's
// outages from every other error (Classify), which the drivers mark with
// retry.ErrUnavailable on their way out, so that nothing above a driver
// needs pgx's error types.
package pgdb
