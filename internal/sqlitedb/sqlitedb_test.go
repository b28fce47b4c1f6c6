package sqlitedb_test

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/retry"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

// A file another connection holds the write lock of is an outage (it
// passes); a broken constraint is not.
func TestClassify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	params := url.Values{"_txlock": {"immediate"}, "_pragma": {"journal_mode(WAL)", "busy_timeout(0)"}}
	a, err := sqlitedb.Open(path, params, 1, time.Second)
	require.NoError(t, err)
	defer a.Close()
	b, err := sqlitedb.Open(path, params, 1, time.Second)
	require.NoError(t, err)
	defer b.Close()
	_, err = a.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY)`)
	require.NoError(t, err)
	_, err = a.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
	require.NoError(t, err)

	_, err = a.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
	require.True(t, sqlitedb.IsConstraint(err))
	sqlitedb.Classify(&err)
	require.False(t, errors.Is(err, retry.ErrUnavailable), "a constraint is not an outage: %v", err)

	tx, err := a.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = b.ExecContext(ctx, `INSERT INTO t VALUES (2)`)
	require.Error(t, err)
	msg := err.Error()
	sqlitedb.Classify(&err)
	require.ErrorIs(t, err, retry.ErrUnavailable, "a locked file is an outage")
	require.Equal(t, msg, err.Error())
	require.True(t, retry.Transient(err))

	var none error
	sqlitedb.Classify(&none)
	require.NoError(t, none)
}

func TestOpenRefusesABadPath(t *testing.T) {
	t.Parallel()
	_, err := sqlitedb.Open(filepath.Join(t.TempDir(), "no", "such", "dir", "db"), nil, 1, time.Second)
	require.ErrorContains(t, err, "opening ")
}
