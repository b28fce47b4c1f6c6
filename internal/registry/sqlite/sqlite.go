// Package sqlite is the embedded-mode registry.Store: the schema registry's
// tables in a SQLite file (modernc.org/sqlite, pure Go), in WAL mode with
// synchronous=FULL, written through one connection and read through a
// small read-only pool, like the quarantine metadata store.
//
// The gateway keeps the registry in its own file (registry.db beside the
// quarantine metadata file), not in that file: the two have separate
// migration histories, and a registry file can be backed up or copied
// between environments alone. The tables are prefixed registry_ so that
// sharing one file stays possible.
//
// As in the quarantine store, every method marks the file's outages with
// retry.ErrUnavailable (sqlitedb.Classify), so the resolver's callers
// retry them as outages.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

// Options configure a Store.
type Options struct {
	// Path is the database file. Required; created if missing. It must be
	// a plain file path (not ":memory:", no '?').
	Path string
	// BusyTimeout is how long a statement waits for a lock held by another
	// process before failing. Default 5s.
	BusyTimeout time.Duration
	// MaxReaders caps the concurrent read connections. Default 4.
	MaxReaders int
}

// Store is a registry.Store in a SQLite file.
type Store struct {
	w *sql.DB // exactly one connection: every write
	r *sql.DB // read-only pool

	closeOnce sync.Once
	closeErr  error
}

var _ registry.Store = (*Store)(nil)

// New opens (creating if needed) the database at opts.Path and migrates the
// registry tables to the newest version.
func New(opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("sqlite registry store: Options.Path is required")
	}
	if strings.ContainsRune(opts.Path, '?') || opts.Path == ":memory:" || strings.HasPrefix(opts.Path, "file:") {
		return nil, fmt.Errorf("sqlite registry store: Path %q must be a plain file path", opts.Path)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.MaxReaders <= 0 {
		opts.MaxReaders = 4
	}
	busy := "busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")"
	w, err := sqlitedb.Open(opts.Path, url.Values{
		"_txlock": {"immediate"},
		"_pragma": {busy, "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"},
	}, 1, opts.BusyTimeout)
	if err != nil {
		return nil, err
	}
	if err := migrate.Up(context.Background(), w, Migrations(), nil); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("migrating %s: %w", opts.Path, err)
	}
	r, err := sqlitedb.Open(opts.Path, url.Values{"_pragma": {busy, "query_only(1)"}}, opts.MaxReaders, opts.BusyTimeout)
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	return &Store{w: w, r: r}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// schemaColumns are the columns scanSchema reads, in order.
const schemaColumns = `id, format, text, rule_set, metadata, fingerprint, COALESCE(guid, '')`

type scanner interface{ Scan(dest ...any) error }

func scanSchema(row scanner) (registry.Schema, error) {
	var (
		out    registry.Schema
		format string
	)
	err := row.Scan(&out.ID, &format, &out.Text, &out.RuleSet, &out.Metadata, &out.Fingerprint, &out.GUID)
	out.Format = schema.Format(format)
	return out, err
}

// querySchemas returns the schemas a query of schemaColumns selects.
func (s *Store) querySchemas(ctx context.Context, doing, q string, args ...any) (_ []registry.Schema, err error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	var out []registry.Schema
	for rows.Next() {
		sc, err := scanSchema(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", doing, err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return out, nil
}

// SchemasByFingerprint implements registry.Store.
func (s *Store) SchemasByFingerprint(ctx context.Context, fingerprint string) (_ []registry.Schema, err error) {
	defer sqlitedb.Classify(&err)
	return s.querySchemas(ctx, "finding schemas", `SELECT `+schemaColumns+` FROM registry_schemas WHERE fingerprint = ? ORDER BY id`, fingerprint)
}

// SchemasWithoutKeys implements registry.Store.
func (s *Store) SchemasWithoutKeys(ctx context.Context, limit int) (_ []registry.Schema, err error) {
	defer sqlitedb.Classify(&err)
	return s.querySchemas(ctx, "listing schemas without keys",
		`SELECT `+schemaColumns+` FROM registry_schemas WHERE fingerprint = '' OR guid IS NULL ORDER BY id LIMIT ?`, limit)
}

// SetSchemaKeys implements registry.Store.
func (s *Store) SetSchemaKeys(ctx context.Context, id int, fingerprint, guid string) (err error) {
	defer sqlitedb.Classify(&err)
	res, err := s.w.ExecContext(ctx, `UPDATE registry_schemas SET fingerprint = ?, guid = ? WHERE id = ?`, fingerprint, guid, id)
	if sqlitedb.IsConstraint(err) {
		return registry.ErrConflict
	}
	return affected(res, err, "storing schema keys")
}

// InsertSchema implements registry.Store.
func (s *Store) InsertSchema(ctx context.Context, sc registry.Schema) (_ registry.Schema, err error) {
	defer sqlitedb.Classify(&err)
	var id any
	if sc.ID != 0 {
		id = sc.ID
	}
	var got int64
	err = s.w.QueryRowContext(ctx, `INSERT INTO registry_schemas (id, format, text, rule_set, metadata, fingerprint, guid)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		id, string(sc.Format), sc.Text, sc.RuleSet, sc.Metadata, sc.Fingerprint, nullIfEmpty(sc.GUID)).Scan(&got)
	if sqlitedb.IsConstraint(err) {
		return registry.Schema{}, registry.ErrConflict
	}
	if err != nil {
		return registry.Schema{}, fmt.Errorf("inserting schema: %w", err)
	}
	sc.ID = int(got)
	return sc, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Schema implements registry.Store.
func (s *Store) Schema(ctx context.Context, id int) (_ registry.Schema, err error) {
	defer sqlitedb.Classify(&err)
	out, err := scanSchema(s.r.QueryRowContext(ctx, `SELECT `+schemaColumns+` FROM registry_schemas WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Schema{}, registry.ErrNotFound
	}
	if err != nil {
		return registry.Schema{}, fmt.Errorf("reading schema %d: %w", id, err)
	}
	return out, nil
}

// SchemaByGUID implements registry.Store.
func (s *Store) SchemaByGUID(ctx context.Context, guid string) (_ registry.Schema, err error) {
	defer sqlitedb.Classify(&err)
	out, err := scanSchema(s.r.QueryRowContext(ctx, `SELECT `+schemaColumns+` FROM registry_schemas WHERE guid = ?`, guid))
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Schema{}, registry.ErrNotFound
	}
	if err != nil {
		return registry.Schema{}, fmt.Errorf("reading schema %s: %w", guid, err)
	}
	return out, nil
}

// Versions implements registry.Store.
func (s *Store) Versions(ctx context.Context, f registry.VersionFilter) (_ []registry.Version, err error) {
	defer sqlitedb.Classify(&err)
	q := `SELECT subject, version, schema_id, label, state, deleted FROM registry_versions WHERE 1=1`
	var args []any
	if f.Subject != "" {
		q += ` AND subject = ?`
		args = append(args, f.Subject)
	}
	if f.SchemaID != 0 {
		q += ` AND schema_id = ?`
		args = append(args, f.SchemaID)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY subject, version`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	var out []registry.Version
	for rows.Next() {
		var (
			v     registry.Version
			state string
		)
		if err := rows.Scan(&v.Subject, &v.Version, &v.SchemaID, &v.Label, &state, &v.Deleted); err != nil {
			return nil, fmt.Errorf("reading version row: %w", err)
		}
		v.State = registry.State(state)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	return out, nil
}

// InsertVersion implements registry.Store.
func (s *Store) InsertVersion(ctx context.Context, v registry.Version) (err error) {
	defer sqlitedb.Classify(&err)
	_, err = s.w.ExecContext(ctx, `INSERT INTO registry_versions (subject, version, schema_id, label, state, deleted) VALUES (?, ?, ?, ?, ?, ?)`,
		v.Subject, v.Version, v.SchemaID, v.Label, string(v.State), v.Deleted)
	if sqlitedb.IsConstraint(err) {
		return registry.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("inserting version: %w", err)
	}
	return nil
}

// UpdateVersion implements registry.Store.
func (s *Store) UpdateVersion(ctx context.Context, v registry.Version) (err error) {
	defer sqlitedb.Classify(&err)
	res, err := s.w.ExecContext(ctx, `UPDATE registry_versions SET label = ?, state = ?, deleted = ? WHERE subject = ? AND version = ?`,
		v.Label, string(v.State), v.Deleted, v.Subject, v.Version)
	return affected(res, err, "updating version")
}

// DeleteVersion implements registry.Store.
func (s *Store) DeleteVersion(ctx context.Context, subject string, version int) (err error) {
	defer sqlitedb.Classify(&err)
	res, err := s.w.ExecContext(ctx, `DELETE FROM registry_versions WHERE subject = ? AND version = ?`, subject, version)
	return affected(res, err, "deleting version")
}

func affected(res sql.Result, err error, doing string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	if n == 0 {
		return registry.ErrNotFound
	}
	return nil
}

// Config implements registry.Store.
func (s *Store) Config(ctx context.Context, subject string) (_ registry.Config, err error) {
	defer sqlitedb.Classify(&err)
	c := registry.Config{Subject: subject}
	var mode string
	err = s.r.QueryRowContext(ctx, `SELECT compatibility, mode, enforce_new FROM registry_config WHERE subject = ?`, subject).
		Scan(&c.Compatibility, &mode, &c.EnforceNew)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Config{}, registry.ErrNotFound
	}
	if err != nil {
		return registry.Config{}, fmt.Errorf("reading configuration: %w", err)
	}
	c.Mode = registry.Mode(mode)
	return c, nil
}

// SetConfig implements registry.Store.
func (s *Store) SetConfig(ctx context.Context, c registry.Config) (err error) {
	defer sqlitedb.Classify(&err)
	_, err = s.w.ExecContext(ctx, `INSERT INTO registry_config (subject, compatibility, mode, enforce_new) VALUES (?, ?, ?, ?)
		ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility, mode = excluded.mode, enforce_new = excluded.enforce_new`,
		c.Subject, c.Compatibility, string(c.Mode), c.EnforceNew)
	if err != nil {
		return fmt.Errorf("storing configuration: %w", err)
	}
	return nil
}

// DeleteConfig implements registry.Store.
func (s *Store) DeleteConfig(ctx context.Context, subject string) (err error) {
	defer sqlitedb.Classify(&err)
	if _, err := s.w.ExecContext(ctx, `DELETE FROM registry_config WHERE subject = ?`, subject); err != nil {
		return fmt.Errorf("deleting configuration: %w", err)
	}
	return nil
}
