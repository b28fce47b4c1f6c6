package migrate_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
	"github.com/dataquarantine/dataquarantine/internal/migrate/migratetest"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	ms, err := migrate.Load(fstest.MapFS{
		"0002_b.sql": {Data: []byte("-- +goose Up\nB up;\n-- +goose Down\nB down;\n")},
		"0001_a.sql": {Data: []byte("A;\n")},
		"README.md":  {Data: []byte("ignored")},
	})
	require.NoError(t, err)
	require.Equal(t, []migrate.Migration{
		{Version: 1, Name: "0001_a", Up: "A;\n"},
		{Version: 2, Name: "0002_b", Up: "B up;\n", Down: "B down;\n"},
	}, ms)

	for name, fsys := range map[string]fstest.MapFS{
		"gap":                 {"0001_a.sql": {}, "0003_c.sql": {}},
		"duplicate":           {"0001_a.sql": {}, "0001_b.sql": {}},
		"no number":           {"first.sql": {}},
		"zero":                {"0000_a.sql": {}},
		"down before up":      {"0001_a.sql": {Data: []byte("-- +goose Down\nA;\n")}},
		"two downs":           {"0001_a.sql": {Data: []byte("-- +goose Up\nA;\n-- +goose Down\n-- +goose Down\n")}},
		"another annotation":  {"0001_a.sql": {Data: []byte("-- +goose Up\n-- +goose StatementBegin\nA;\n")}},
		"no transaction mode": {"0001_a.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nA;\n")}},
	} {
		_, err := migrate.Load(fsys)
		require.Error(t, err, name)
	}
}

// writer opens path as the SQLite stores open their writer: one
// connection whose transactions BEGIN IMMEDIATE.
func writer(t *testing.T, path string) *sql.DB {
	t.Helper()
	q := url.Values{"_txlock": {"immediate"}, "_pragma": {"busy_timeout(5000)", "journal_mode(WAL)"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func newSQLite(t *testing.T) func() *sql.DB {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	return func() *sql.DB { return writer(t, path) }
}

var history = migrate.Source{
	Files: fstest.MapFS{
		"0001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t (a INTEGER);\n-- +goose Down\nDROP TABLE t;\n")},
		"0002_u.sql": {Data: []byte("-- +goose Up\nCREATE TABLE u (b INTEGER);\nCREATE INDEX u_b ON u (b);\n-- +goose Down\nDROP TABLE u;\n")},
	},
	Table:   "t_version",
	Dialect: migrate.SQLite,
}

// The runner against SQLite, downs included; PostgreSQL's dialects are
// exercised by the drivers' suites, against a real server.
func TestConformance(t *testing.T) {
	t.Parallel()
	migratetest.Exercise(t, history, newSQLite)
}

// Two histories share one file, each in its own table; a bad table name
// and a down part missing are refused before anything changes.
func TestHistoriesApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newSQLite(t)()
	require.NoError(t, migrate.Up(ctx, db, history, nil))
	other := migrate.Source{
		Files:   fstest.MapFS{"0001_x.sql": {Data: []byte("CREATE TABLE x (c INTEGER)")}},
		Table:   "x_version",
		Dialect: migrate.SQLite,
	}
	require.NoError(t, migrate.Up(ctx, db, other, nil))
	current, latest, err := migrate.Version(ctx, db, history)
	require.NoError(t, err)
	require.Equal(t, [2]int{2, 2}, [2]int{current, latest})
	current, latest, err = migrate.Version(ctx, db, other)
	require.NoError(t, err)
	require.Equal(t, [2]int{1, 1}, [2]int{current, latest})

	err = migrate.Down(ctx, db, other, 0, nil)
	require.ErrorContains(t, err, "0001_x has no down part")
	current, _, err = migrate.Version(ctx, db, other)
	require.NoError(t, err)
	require.Equal(t, 1, current)

	bad := history
	bad.Table = "x; DROP TABLE t"
	require.ErrorContains(t, migrate.Up(ctx, db, bad, nil), "not a plain identifier")
}

// A migration that fails leaves the database at the one before, with
// nothing of the failed one applied.
func TestFailedMigrationRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newSQLite(t)()
	broken := history
	broken.Files = fstest.MapFS{
		"0001_t.sql": history.Files.(fstest.MapFS)["0001_t.sql"],
		"0002_u.sql": {Data: []byte("CREATE TABLE u (b INTEGER); INSERT INTO no_such_table VALUES (1);")},
	}
	require.ErrorContains(t, migrate.Up(ctx, db, broken, nil), "applying migration 0002_u")
	current, _, err := migrate.Version(ctx, db, broken)
	require.NoError(t, err)
	require.Equal(t, 1, current)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'u'`).Scan(&n))
	require.Zero(t, n, "the failed migration's table is rolled back")
	require.NoError(t, migrate.Up(ctx, db, history, nil), "the fixed file applies")
}
