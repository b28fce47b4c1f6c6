// Package postgres is the registry.Store in PostgreSQL, for gateways whose
// metadata is in PostgreSQL and that share one registry: the registry_
// tables in the schema the URL's search_path names, beside the quarantine
// tables if it is the same.
//
// Every method marks PostgreSQL's outages with retry.ErrUnavailable
// (pgdb.Classify), so the resolver's callers retry them as outages.
package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// Options configure a Store.
type Options struct {
	// URL is the database: postgres://user:password@host:5432/db?sslmode=...
	// Required. pgx's URL parameters apply, such as search_path.
	URL string
	// MaxConns caps the connection pool. Default 4.
	MaxConns int32
}

// Store is a registry.Store in PostgreSQL.
type Store struct {
	pool      *pgxpool.Pool
	closeOnce sync.Once
}

var _ registry.Store = (*Store)(nil)

// New connects and migrates the registry tables to the newest version.
func New(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return nil, errors.New("postgres registry store: Options.URL is required")
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4
	}
	cfg, err := pgdb.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres registry store: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if err := migrateTables(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// digest identifies a schema row: sha256 of format, NUL, text and, when
// there are rules or metadata, NUL and the rule set, and when there is
// metadata, NUL and the metadata (so rows keep the digest they had before
// rule sets and metadata existed).
func digest(format schema.Format, text, ruleSet, metadata string) []byte {
	h := sha256.New()
	h.Write([]byte(format))
	h.Write([]byte{0})
	h.Write([]byte(text))
	if ruleSet != "" || metadata != "" {
		h.Write([]byte{0})
		h.Write([]byte(ruleSet))
	}
	if metadata != "" {
		h.Write([]byte{0})
		h.Write([]byte(metadata))
	}
	return h.Sum(nil)
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// schemaColumns are the columns scanSchema reads, in order.
const schemaColumns = `id, format, text, rule_set, metadata, fingerprint, COALESCE(guid, '')`

func scanSchema(row pgx.Row) (registry.Schema, error) {
	var (
		out    registry.Schema
		format string
	)
	err := row.Scan(&out.ID, &format, &out.Text, &out.RuleSet, &out.Metadata, &out.Fingerprint, &out.GUID)
	out.Format = schema.Format(format)
	return out, err
}

func (s *Store) querySchemas(ctx context.Context, doing, q string, args ...any) ([]registry.Schema, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (registry.Schema, error) { return scanSchema(row) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return out, nil
}

// SchemasByFingerprint implements registry.Store.
func (s *Store) SchemasByFingerprint(ctx context.Context, fingerprint string) (_ []registry.Schema, err error) {
	defer pgdb.Classify(&err)
	return s.querySchemas(ctx, "finding schemas", `SELECT `+schemaColumns+` FROM registry_schemas WHERE fingerprint = $1 ORDER BY id`, fingerprint)
}

// SchemasWithoutKeys implements registry.Store.
func (s *Store) SchemasWithoutKeys(ctx context.Context, limit int) (_ []registry.Schema, err error) {
	defer pgdb.Classify(&err)
	return s.querySchemas(ctx, "listing schemas without keys",
		`SELECT `+schemaColumns+` FROM registry_schemas WHERE fingerprint = '' OR guid IS NULL ORDER BY id LIMIT $1`, limit)
}

// SetSchemaKeys implements registry.Store.
func (s *Store) SetSchemaKeys(ctx context.Context, id int, fingerprint, guid string) (err error) {
	defer pgdb.Classify(&err)
	tag, err := s.pool.Exec(ctx, `UPDATE registry_schemas SET fingerprint = $1, guid = $2 WHERE id = $3`, fingerprint, guid, id)
	if isUniqueViolation(err) {
		return registry.ErrConflict
	}
	return affected(tag, err, "storing schema keys")
}

// SchemaByGUID implements registry.Store.
func (s *Store) SchemaByGUID(ctx context.Context, guid string) (_ registry.Schema, err error) {
	defer pgdb.Classify(&err)
	out, err := scanSchema(s.pool.QueryRow(ctx, `SELECT `+schemaColumns+` FROM registry_schemas WHERE guid = $1`, guid))
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Schema{}, registry.ErrNotFound
	}
	if err != nil {
		return registry.Schema{}, fmt.Errorf("reading schema %s: %w", guid, err)
	}
	return out, nil
}

// idLock serialises id assignment across processes sharing the tables.
const idLock = `SELECT pg_advisory_xact_lock(hashtextextended('dataquarantine registry ids ' || coalesce(current_schema(), ''), 0))`

// InsertSchema implements registry.Store. A new id is one more than the
// largest so far, as in SQLite, so ids imported in IMPORT mode are never
// handed out again.
func (s *Store) InsertSchema(ctx context.Context, sc registry.Schema) (_ registry.Schema, err error) {
	defer pgdb.Classify(&err)
	var id *int
	if sc.ID != 0 {
		id = &sc.ID
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, idLock); err != nil {
			return fmt.Errorf("locking id assignment: %w", err)
		}
		var guid *string
		if sc.GUID != "" {
			guid = &sc.GUID
		}
		return tx.QueryRow(ctx, `INSERT INTO registry_schemas (id, format, text, rule_set, metadata, fingerprint, guid, digest)
			VALUES (COALESCE($1, (SELECT COALESCE(MAX(id), 0) + 1 FROM registry_schemas)), $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			id, string(sc.Format), sc.Text, sc.RuleSet, sc.Metadata, sc.Fingerprint, guid,
			digest(sc.Format, sc.Text, sc.RuleSet, sc.Metadata)).Scan(&sc.ID)
	})
	if isUniqueViolation(err) {
		return registry.Schema{}, registry.ErrConflict
	}
	if err != nil {
		return registry.Schema{}, fmt.Errorf("inserting schema: %w", err)
	}
	return sc, nil
}

// Schema implements registry.Store.
func (s *Store) Schema(ctx context.Context, id int) (_ registry.Schema, err error) {
	defer pgdb.Classify(&err)
	out, err := scanSchema(s.pool.QueryRow(ctx, `SELECT `+schemaColumns+` FROM registry_schemas WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Schema{}, registry.ErrNotFound
	}
	if err != nil {
		return registry.Schema{}, fmt.Errorf("reading schema %d: %w", id, err)
	}
	return out, nil
}

// Versions implements registry.Store.
func (s *Store) Versions(ctx context.Context, f registry.VersionFilter) (_ []registry.Version, err error) {
	defer pgdb.Classify(&err)
	rows, err := s.pool.Query(ctx, `SELECT subject, version, schema_id, label, state, deleted FROM registry_versions
		WHERE ($1 = '' OR subject = $1) AND ($2 = 0 OR schema_id = $2)
		ORDER BY subject COLLATE "C", version`, f.Subject, f.SchemaID)
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (registry.Version, error) {
		var (
			v     registry.Version
			state string
		)
		err := row.Scan(&v.Subject, &v.Version, &v.SchemaID, &v.Label, &state, &v.Deleted)
		v.State = registry.State(state)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	return out, nil
}

// InsertVersion implements registry.Store.
func (s *Store) InsertVersion(ctx context.Context, v registry.Version) (err error) {
	defer pgdb.Classify(&err)
	_, err = s.pool.Exec(ctx, `INSERT INTO registry_versions (subject, version, schema_id, label, state, deleted) VALUES ($1, $2, $3, $4, $5, $6)`,
		v.Subject, v.Version, v.SchemaID, v.Label, string(v.State), v.Deleted)
	if isUniqueViolation(err) {
		return registry.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("inserting version: %w", err)
	}
	return nil
}

// UpdateVersion implements registry.Store.
func (s *Store) UpdateVersion(ctx context.Context, v registry.Version) (err error) {
	defer pgdb.Classify(&err)
	tag, err := s.pool.Exec(ctx, `UPDATE registry_versions SET label = $1, state = $2, deleted = $3 WHERE subject = $4 AND version = $5`,
		v.Label, string(v.State), v.Deleted, v.Subject, v.Version)
	return affected(tag, err, "updating version")
}

// DeleteVersion implements registry.Store.
func (s *Store) DeleteVersion(ctx context.Context, subject string, version int) (err error) {
	defer pgdb.Classify(&err)
	tag, err := s.pool.Exec(ctx, `DELETE FROM registry_versions WHERE subject = $1 AND version = $2`, subject, version)
	return affected(tag, err, "deleting version")
}

func affected(tag pgconn.CommandTag, err error, doing string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	if tag.RowsAffected() == 0 {
		return registry.ErrNotFound
	}
	return nil
}

// Config implements registry.Store.
func (s *Store) Config(ctx context.Context, subject string) (_ registry.Config, err error) {
	defer pgdb.Classify(&err)
	c := registry.Config{Subject: subject}
	var mode string
	err = s.pool.QueryRow(ctx, `SELECT compatibility, mode, enforce_new FROM registry_config WHERE subject = $1`, subject).
		Scan(&c.Compatibility, &mode, &c.EnforceNew)
	if errors.Is(err, pgx.ErrNoRows) {
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
	defer pgdb.Classify(&err)
	_, err = s.pool.Exec(ctx, `INSERT INTO registry_config (subject, compatibility, mode, enforce_new) VALUES ($1, $2, $3, $4)
		ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility, mode = excluded.mode, enforce_new = excluded.enforce_new`,
		c.Subject, c.Compatibility, string(c.Mode), c.EnforceNew)
	if err != nil {
		return fmt.Errorf("storing configuration: %w", err)
	}
	return nil
}

// DeleteConfig implements registry.Store.
func (s *Store) DeleteConfig(ctx context.Context, subject string) (err error) {
	defer pgdb.Classify(&err)
	if _, err := s.pool.Exec(ctx, `DELETE FROM registry_config WHERE subject = $1`, subject); err != nil {
		return fmt.Errorf("deleting configuration: %w", err)
	}
	return nil
}
