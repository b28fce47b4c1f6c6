package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Source is one store's migration history, as its driver ships it.
type Source struct {
	// Files holds the history: NNNN_description.sql files at its root,
	// whose versions run 1, 2, 3... without gaps. Never edit a released
	// file; add the next one. Required.
	Files fs.FS
	// Table is the version table recording the applied migrations, a
	// plain identifier: one per history, so that histories sharing a
	// database never collide. Required.
	Table string
	// Dialect is the database's, with the version table's layout.
	// Required.
	Dialect Dialect
	// Lock names the PostgreSQL advisory lock that serialises this
	// history's migrations; the key is the hash of Lock followed by the
	// current schema's name, so stores in different schemas migrate
	// independently. Ignored by SQLite. Default "dataquarantine
	// migrations ".
	Lock string
}

// Migration is one file of a history.
type Migration struct {
	Version int
	// Name is the file's name without ".sql".
	Name string
	// Up applies the migration, Down reverts it ("" when the file has no
	// down part).
	Up, Down string
}

// gooseUp and gooseDown split a file in goose's annotated form, which
// the PostgreSQL quarantine store's released files are in: the SQL after
// gooseUp applies the migration, the SQL after gooseDown reverts it.
const (
	gooseUp   = "-- +goose Up"
	gooseDown = "-- +goose Down"
)

// Load reads a history's files (see Source.Files). A file is the SQL of
// its migration, or, in goose's annotated form, the line "-- +goose Up"
// followed by that SQL, then optionally "-- +goose Down" followed by the
// SQL that reverts it; goose's other annotations are refused.
func Load(files fs.FS) ([]Migration, error) {
	paths, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var ms []Migration
	for _, p := range paths {
		name := strings.TrimSuffix(p, ".sql")
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version number", p)
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", p, err)
		}
		m := Migration{Version: v, Name: name}
		if m.Up, m.Down, err = split(string(b)); err != nil {
			return nil, fmt.Errorf("migration %s: %w", p, err)
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := range ms {
		if ms[i].Version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3... without gaps", ms[i].Name)
		}
	}
	return ms, nil
}

// split returns the up and down parts of a file's text.
func split(text string) (up, down string, err error) {
	var b strings.Builder
	part := &up
	annotated := false
	for line := range strings.Lines(text) {
		directive := strings.TrimSpace(line)
		if !strings.HasPrefix(directive, "-- +goose") {
			b.WriteString(line)
			continue
		}
		switch {
		case directive == gooseUp && !annotated:
			annotated = true
			b.Reset() // what came before is commentary
		case directive == gooseDown && annotated && part == &up:
			*part = b.String()
			b.Reset()
			part = &down
		default:
			return "", "", fmt.Errorf("unsupported or misplaced annotation %q", directive)
		}
	}
	*part = b.String()
	return up, down, nil
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// runner is one run over a history on one connection.
type runner struct {
	src    Source
	ms     []Migration
	conn   *sql.Conn
	logger *slog.Logger
}

// open loads src's files and takes a connection of db, locked for
// migrations; close releases both.
func open(ctx context.Context, db *sql.DB, src Source, logger *slog.Logger) (r *runner, closeFn func() error, err error) {
	switch {
	case src.Files == nil, src.Dialect == nil:
		return nil, nil, errors.New("migrate: Source.Files and Source.Dialect are required")
	case !identifier.MatchString(src.Table):
		return nil, nil, fmt.Errorf("migration table name %q is not a plain identifier", src.Table)
	}
	if src.Lock == "" {
		src.Lock = "dataquarantine migrations "
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ms, err := Load(src.Files)
	if err != nil {
		return nil, nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting for migrations: %w", err)
	}
	unlock, err := src.Dialect.lock(ctx, conn, src.Lock)
	if err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	r = &runner{src: src, ms: ms, conn: conn, logger: logger.With("component", "migrations", "table", src.Table)}
	closeFn = func() error {
		// Not ctx: the lock is released even when ctx ended.
		return errors.Join(unlock(context.WithoutCancel(ctx)), conn.Close())
	}
	if err := r.inTx(ctx, "creating "+src.Table, func(tx *sql.Tx) error {
		return src.Dialect.createTable(ctx, tx, src.Table)
	}); err != nil {
		return nil, nil, errors.Join(err, closeFn())
	}
	return r, closeFn, nil
}

// Up brings db to the newest migration of src, logging each it applies
// on logger (nil: none). A database whose history is newer than src's
// files is refused. With SQLite, db must be the store's writer, whose
// transactions BEGIN IMMEDIATE.
func Up(ctx context.Context, db *sql.DB, src Source, logger *slog.Logger) (err error) {
	r, closeFn, err := open(ctx, db, src, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeFn()) }()
	for _, m := range r.ms {
		if err := r.inTx(ctx, "migration "+m.Name, func(tx *sql.Tx) error { return r.up(ctx, tx, m) }); err != nil {
			return err
		}
	}
	return nil
}

// up applies m unless the database has it already; it reads the version
// in the migration's own transaction, so that a concurrent opener that
// applied m meanwhile is seen.
func (r *runner) up(ctx context.Context, tx *sql.Tx, m Migration) error {
	current, err := r.current(ctx, tx)
	if err != nil || current >= m.Version {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.Up); err != nil {
		return fmt.Errorf("applying migration %s: %w", m.Name, err)
	}
	if err := r.src.Dialect.record(ctx, tx, r.src.Table, m.Version, m.Name); err != nil {
		return fmt.Errorf("recording migration %s: %w", m.Name, err)
	}
	r.logger.InfoContext(ctx, "migration applied", "migration", m.Name)
	return nil
}

// Down reverts the migrations of db above version to, newest first,
// each in its own transaction. Every one of them must have a down part;
// nothing is reverted otherwise.
func Down(ctx context.Context, db *sql.DB, src Source, to int, logger *slog.Logger) (err error) {
	r, closeFn, err := open(ctx, db, src, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeFn()) }()
	for _, m := range r.ms[min(max(to, 0), len(r.ms)):] {
		if m.Down == "" {
			return fmt.Errorf("migration %s has no down part: cannot go below version %d", m.Name, m.Version)
		}
	}
	for i := len(r.ms) - 1; i >= max(to, 0); i-- {
		m := r.ms[i]
		if err := r.inTx(ctx, "reverting migration "+m.Name, func(tx *sql.Tx) error { return r.down(ctx, tx, m) }); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) down(ctx context.Context, tx *sql.Tx, m Migration) error {
	current, err := r.current(ctx, tx)
	if err != nil || current < m.Version {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.Down); err != nil {
		return fmt.Errorf("reverting migration %s: %w", m.Name, err)
	}
	if err := r.src.Dialect.unrecord(ctx, tx, r.src.Table, m.Version); err != nil {
		return fmt.Errorf("unrecording migration %s: %w", m.Name, err)
	}
	r.logger.InfoContext(ctx, "migration reverted", "migration", m.Name)
	return nil
}

// Version returns the version db's history is at (0 before the first
// migration) and the newest of src's files.
func Version(ctx context.Context, db *sql.DB, src Source) (current, latest int, err error) {
	r, closeFn, err := open(ctx, db, src, nil)
	if err != nil {
		return 0, 0, err
	}
	defer func() { err = errors.Join(err, closeFn()) }()
	err = r.inTx(ctx, "reading "+src.Table, func(tx *sql.Tx) error {
		current, err = r.current(ctx, tx)
		return err
	})
	return current, len(r.ms), err
}

// current reads the version, refusing a database newer than the files.
func (r *runner) current(ctx context.Context, tx *sql.Tx) (int, error) {
	current, err := r.src.Dialect.version(ctx, tx, r.src.Table)
	if err != nil {
		return 0, fmt.Errorf("reading the schema version from %s: %w", r.src.Table, err)
	}
	if current > len(r.ms) {
		return 0, fmt.Errorf("database schema version %d (%s) is newer than this binary's %d: refusing to use it", current, r.src.Table, len(r.ms))
	}
	return current, nil
}

func (r *runner) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: committing: %w", what, err)
	}
	return nil
}
