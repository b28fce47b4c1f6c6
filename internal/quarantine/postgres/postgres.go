package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// Options configure a Store.
type Options struct {
	// URL is the database: postgres://user:password@host:5432/db?sslmode=...
	// (postgresql:// too). Required. pgx's URL parameters apply, such as
	// search_path to keep the tables in a schema of their own.
	URL string
	// MaxConns caps the connection pool; it overrides a pool_max_conns in
	// URL. Default 8.
	MaxConns int32
	// PartitionsAhead is how many days of partitions after today New
	// creates ahead of time (yesterday's and today's are always created).
	// Default 7. Days without a partition are still created on demand.
	PartitionsAhead int
	// Logger receives partition maintenance and migration events. Default:
	// discard.
	Logger *slog.Logger
}

// table is the partitioned table every query goes through.
const table = "quarantine_entries"

// Store is a quarantine.MetadataStore in PostgreSQL.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	ahead  int

	// schema is where the table lives; partitions are created beside it.
	schema string
	// qtable is the table's schema-qualified, quoted name.
	qtable string

	// known holds the days (see dayOf) that have a partition, as far as
	// this Store knows; a miss costs one CREATE TABLE IF NOT EXISTS.
	knownMu sync.Mutex
	known   map[int32]struct{}

	closeOnce sync.Once
}

var (
	_ quarantine.MetadataStore = (*Store)(nil)
	_ quarantine.Lifecycle     = (*Store)(nil)
	_ quarantine.JobStore      = (*Store)(nil)
)

// New connects to the database, applies pending migrations and creates the
// partitions of the days ahead.
func New(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return nil, errors.New("postgres metadata store: Options.URL is required")
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 8
	}
	if opts.PartitionsAhead <= 0 {
		opts.PartitionsAhead = 7
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgdb.ParseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = opts.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	s := &Store{pool: pool, logger: opts.Logger, ahead: opts.PartitionsAhead, known: make(map[int32]struct{})}
	if err := s.open(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if err := migrateSchema(ctx, s.pool, s.logger); err != nil {
		return err
	}
	if err := s.pool.QueryRow(ctx, `SELECT n.nspname FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = $1::regclass`, table).Scan(&s.schema); err != nil {
		return fmt.Errorf("locating table %s: %w", table, err)
	}
	s.qtable = pgx.Identifier{s.schema, table}.Sanitize()
	parts, err := s.partitions(ctx)
	if err != nil {
		return err
	}
	for _, p := range parts {
		s.known[p.day] = struct{}{}
	}
	return s.EnsurePartitions(ctx)
}

// PoolStats returns how many connections are in use and the pool's cap, for
// the postgres_pool_active_connections and postgres_pool_max_connections
// metrics.
func (s *Store) PoolStats() (active, maxConns int32) {
	st := s.pool.Stat()
	return st.AcquiredConns(), st.MaxConns()
}

// Close closes the pool, waiting for connections in use to be released. It
// is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}
