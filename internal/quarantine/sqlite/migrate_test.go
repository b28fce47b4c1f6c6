package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/sqlitemigrate"
)

// The embedded history loads: numbered without gaps, the first creating
// the entries table.
func TestMigrationFiles(t *testing.T) {
	t.Parallel()
	ms, err := sqlitemigrate.Load(migrationFiles, "migrations")
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	require.Equal(t, "0001_entries", ms[0].Name)
}

// A database written before the reprocessing migration keeps its rows, with
// the lifecycle fields at their zero values.
func TestMigrateFromV1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	ms, err := sqlitemigrate.Load(migrationFiles, "migrations")
	require.NoError(t, err)
	db, err := sql.Open("sqlite", path+"?_txlock=immediate")
	require.NoError(t, err)
	require.NoError(t, sqlitemigrate.Apply(ctx, db, versionTable, ms[:1]))
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
