// Package migratetest is the conformance suite every driver's migration
// history passes (River's riverdrivertest runs its migrator the same way):
// Exercise applies a driver's migrate.Source to fresh databases, up, again,
// concurrently, under a newer history, and down and up again when its
// files have downs.
package migratetest

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
)

// suite holds Exercise's subtests, one method each.
type suite struct {
	src         migrate.Source
	newDatabase func(t *testing.T) func() *sql.DB
	latest      int
	downs       bool
}

// Exercise runs the suite over src. newDatabase makes an empty database
// private to the test and returns a function opening a new handle to it
// (as the driver opens its writer), closed when the test ends.
func Exercise(t *testing.T, src migrate.Source, newDatabase func(t *testing.T) func() *sql.DB) {
	t.Helper()
	ms, err := migrate.Load(src.Files)
	require.NoError(t, err)
	require.NotEmpty(t, ms, "a history has migrations")
	s := suite{src: src, newDatabase: newDatabase, latest: len(ms), downs: true}
	for _, m := range ms {
		s.downs = s.downs && m.Down != ""
	}
	t.Run("Up", s.up)
	t.Run("UpAgainChangesNothing", s.upAgain)
	t.Run("ConcurrentOpeners", s.concurrent)
	t.Run("RefusesNewerDatabase", s.refusesNewer)
	if s.downs {
		t.Run("DownThenUp", s.downThenUp)
	}
}

func (s suite) version(t *testing.T, db *sql.DB) int {
	t.Helper()
	current, latest, err := migrate.Version(context.Background(), db, s.src)
	require.NoError(t, err)
	require.Equal(t, s.latest, latest)
	return current
}

func (s suite) up(t *testing.T) {
	t.Parallel()
	db := s.newDatabase(t)()
	require.Zero(t, s.version(t, db), "an empty database")
	require.NoError(t, migrate.Up(context.Background(), db, s.src, nil))
	require.Equal(t, s.latest, s.version(t, db))
}

func (s suite) upAgain(t *testing.T) {
	t.Parallel()
	open := s.newDatabase(t)
	require.NoError(t, migrate.Up(context.Background(), open(), s.src, nil))
	// A second process, or a restart: every migration is there already,
	// and applying one again would fail (its tables exist).
	require.NoError(t, migrate.Up(context.Background(), open(), s.src, nil))
	require.Equal(t, s.latest, s.version(t, open()))
}

func (s suite) concurrent(t *testing.T) {
	t.Parallel()
	open := s.newDatabase(t)
	dbs := make([]*sql.DB, 4)
	for i := range dbs {
		dbs[i] = open()
	}
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() { errs[i] = migrate.Up(context.Background(), db, s.src, nil) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, s.latest, s.version(t, open()))
}

// refusesNewer: a database migrated by a later binary (one more file) is
// refused by this one, and left as it is.
func (s suite) refusesNewer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := s.newDatabase(t)()
	newer := s.src
	newer.Files = withFile(t, s.src.Files, fmt.Sprintf("%04d_later.sql", s.latest+1), "CREATE TABLE migratetest_later (a INTEGER)")
	require.NoError(t, migrate.Up(ctx, db, newer, nil))

	err := migrate.Up(ctx, db, s.src, nil)
	require.ErrorContains(t, err, "newer than this binary")
	current, _, err := migrate.Version(ctx, db, newer)
	require.NoError(t, err)
	require.Equal(t, s.latest+1, current)
}

// downThenUp: every migration reverts, and the history applies again
// from nothing.
func (s suite) downThenUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := s.newDatabase(t)()
	require.NoError(t, migrate.Up(ctx, db, s.src, nil))
	require.NoError(t, migrate.Down(ctx, db, s.src, s.latest-1, nil))
	require.Equal(t, s.latest-1, s.version(t, db))
	require.NoError(t, migrate.Down(ctx, db, s.src, 0, nil))
	require.Zero(t, s.version(t, db))
	require.NoError(t, migrate.Up(ctx, db, s.src, nil))
	require.Equal(t, s.latest, s.version(t, db))
}

// withFile returns files with one more file.
func withFile(t testing.TB, files fs.FS, name, text string) fs.FS {
	t.Helper()
	out := fstest.MapFS{name: &fstest.MapFile{Data: []byte(text)}}
	paths, err := fs.Glob(files, "*.sql")
	require.NoError(t, err)
	for _, p := range paths {
		b, err := fs.ReadFile(files, p)
		require.NoError(t, err)
		out[p] = &fstest.MapFile{Data: b}
	}
	return out
}

// Through returns src with its migrations up to version n only: the
// history as an earlier release shipped it, for a test making a database
// of that release.
func Through(t testing.TB, src migrate.Source, n int) migrate.Source {
	t.Helper()
	ms, err := migrate.Load(src.Files)
	require.NoError(t, err)
	require.LessOrEqual(t, n, len(ms))
	files := fstest.MapFS{}
	for _, m := range ms[:n] {
		b, err := fs.ReadFile(src.Files, m.Name+".sql")
		require.NoError(t, err)
		files[m.Name+".sql"] = &fstest.MapFile{Data: b}
	}
	src.Files = files
	return src
}
