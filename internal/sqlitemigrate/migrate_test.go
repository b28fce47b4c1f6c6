package sqlitemigrate_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/dataquarantine/dataquarantine/internal/sqlitemigrate"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	ms, err := sqlitemigrate.Load(fstest.MapFS{
		"migrations/0002_b.sql": {Data: []byte("B")},
		"migrations/0001_a.sql": {Data: []byte("A")},
		"migrations/README.md":  {Data: []byte("ignored")},
	}, "migrations")
	require.NoError(t, err)
	require.Equal(t, []sqlitemigrate.Migration{{1, "0001_a", "A"}, {2, "0002_b", "B"}}, ms)

	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"duplicate": {"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}},
		"no number": {"migrations/first.sql": {}},
		"zero":      {"migrations/0000_a.sql": {}},
	} {
		_, err := sqlitemigrate.Load(fsys, "migrations")
		require.Error(t, err, name)
	}
}

func writer(t *testing.T, path string) *sql.DB {
	t.Helper()
	q := url.Values{"_txlock": {"immediate"}, "_pragma": {"busy_timeout(5000)", "journal_mode(WAL)"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

var (
	v1 = []sqlitemigrate.Migration{{1, "0001_t", "CREATE TABLE t (a INTEGER)"}}
	v2 = append(v1, sqlitemigrate.Migration{2, "0002_u", "CREATE TABLE u (b INTEGER)"})
)

// Two histories in one file, each applied once even when openers race;
// a newer database is refused; a bad table name is refused.
func TestApply(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = sqlitemigrate.Apply(ctx, writer(t, path), "a_version", v2) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	db := writer(t, path)
	other := []sqlitemigrate.Migration{{1, "0001_x", "CREATE TABLE x (c INTEGER)"}}
	require.NoError(t, sqlitemigrate.Apply(ctx, db, "b_version", other), "another history in the same file")
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM a_version`).Scan(&n))
	require.Equal(t, 2, n)
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM b_version`).Scan(&n))
	require.Equal(t, 1, n)

	err := sqlitemigrate.Apply(ctx, db, "a_version", v1)
	require.ErrorContains(t, err, "newer than this binary's 1")
	require.ErrorContains(t, sqlitemigrate.Apply(ctx, db, "x; DROP TABLE t", v1), "not a plain identifier")
}
