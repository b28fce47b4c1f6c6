package pgdb_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/retry"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"admin shutdown":        {&pgconn.PgError{Code: "57P01"}, true},
		"too many connections":  {&pgconn.PgError{Code: "53300"}, true},
		"connection lost":       {fmt.Errorf("inserting: %w", &pgconn.PgError{Code: "08006"}), true},
		"system error":          {&pgconn.PgError{Code: "58030"}, true},
		"serialization failure": {&pgconn.PgError{Code: "40001"}, true},
		"deadlock":              {&pgconn.PgError{Code: "40P01"}, true},
		"unique violation":      {&pgconn.PgError{Code: "23505"}, false},
		"bad data":              {fmt.Errorf("x: %w", &pgconn.PgError{Code: "22P02"}), false},
		"unknown":               {errors.New("something odd"), false},
	} {
		err := tc.err
		pgdb.Classify(&err)
		require.Equal(t, tc.want, errors.Is(err, retry.ErrUnavailable), name)
		require.Equal(t, tc.err.Error(), err.Error(), "%s: the message is kept", name)
		require.ErrorIs(t, err, tc.err, "%s: so is the cause", name)
	}
	var none error
	pgdb.Classify(&none)
	require.NoError(t, none)
}

func TestParseURLNeverRepeatsIt(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]string{
		"not a URL":     "postgres://dq:hunter2-secret@db:5432:99/dq",
		"bad escape":    "postgres://dq:hunter2%zz-secret@db/dq",
		"bad parameter": "postgres://dq:hunter2-secret@db/dq?pool_max_conns=many",
		"keyword/value": "host=db password=hunter2-secret port=notaport",
	} {
		_, err := pgdb.ParseURL(url)
		require.ErrorContains(t, err, "parsing the PostgreSQL URL", name)
		require.NotContains(t, err.Error(), "hunter2", name)
	}
	cfg, err := pgdb.ParseURL("postgres://dq:hunter2@db:5433/dq?pool_max_conns=3")
	require.NoError(t, err)
	require.Equal(t, uint16(5433), cfg.ConnConfig.Port)
	require.Equal(t, int32(3), cfg.MaxConns)
}
