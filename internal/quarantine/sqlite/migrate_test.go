package sqlite

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
	"github.com/dataquarantine/dataquarantine/internal/migrate/migratetest"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

func TestMigrations(t *testing.T) {
	t.Parallel()
	migratetest.Exercise(t, Migrations(), func(t *testing.T) func() *sql.DB {
		path := filepath.Join(t.TempDir(), "dq.db")
		return func() *sql.DB {
			db, err := sqlitedb.Open(path, url.Values{"_txlock": {"immediate"}, "_pragma": {"busy_timeout(5000)", "journal_mode(WAL)"}}, 1, 5*time.Second)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, db.Close()) })
			return db
		}
	})
}

// A database written before the reprocessing migration keeps its rows, with
// the lifecycle fields at their zero values.
func TestMigrateFromV1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path+"?_txlock=immediate")
	require.NoError(t, err)
	require.NoError(t, migrate.Up(ctx, db, migratetest.Through(t, Migrations(), 1), nil))
	_, err = db.ExecContext(ctx, `INSERT INTO entries VALUES ('id1', 't', 0, 1, NULL, NULL, 5, 's', 1,
		'MISSING_FIELD', '/x', '[]', 'seg', 0, 1, 1, 'quarantined')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := New(Options{Path: path})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	e, err := s.Get(ctx, "id1")
	require.NoError(t, err)
	require.Equal(t, quarantine.StatusQuarantined, e.Status)
	require.True(t, e.StatusChangedAt.IsZero())
	require.Empty(t, e.Job)
	require.Zero(t, e.ReplayCount)
	require.False(t, e.Corrected)
	_, err = s.Claim(ctx, "id1", "j")
	require.NoError(t, err)
}

// TestEarlierReleaseDatabase: a database made by an earlier release, its
// version table as that release's runner left it, opens with its rows.
func TestEarlierReleaseDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dq.db")
	dump, err := os.ReadFile("testdata/earlier_release.sql")
	require.NoError(t, err)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, string(dump))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := New(Options{Path: path})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	quarantinetest.CheckEarlierRelease(t, s, s.AuditLog())
	var versions []int
	rows, err := s.r.QueryContext(ctx, `SELECT version FROM `+versionTable+` ORDER BY version`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []int{1, 2}, versions, "the release's history, then each new migration once")
}
