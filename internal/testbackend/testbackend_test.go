package testbackend

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	Main(m, func() error { return goleak.Find() })
}

// TestPostgresSchemasAreIsolated: each call gets its own schema, tables
// land in it, and other schemas do not see them.
func TestPostgresSchemasAreIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := Postgres(t), Postgres(t)
	require.NotEqual(t, a, b)

	connA, err := pgx.Connect(ctx, a)
	require.NoError(t, err)
	defer connA.Close(ctx)
	connB, err := pgx.Connect(ctx, b)
	require.NoError(t, err)
	defer connB.Close(ctx)

	_, err = connA.Exec(ctx, `CREATE TABLE only_in_a (x int)`)
	require.NoError(t, err)
	_, err = connA.Exec(ctx, `INSERT INTO only_in_a VALUES (1)`)
	require.NoError(t, err)
	_, err = connB.Exec(ctx, `SELECT * FROM only_in_a`)
	require.ErrorContains(t, err, "does not exist")

	var schemaA string
	require.NoError(t, connA.QueryRow(ctx, `SELECT current_schema()`).Scan(&schemaA))
	require.True(t, strings.HasPrefix(schemaA, "t_"), schemaA)
	require.Contains(t, a, "search_path="+schemaA)
}

// TestPostgresSchemaDropped: a test's schema is gone after the test.
func TestPostgresSchemaDropped(t *testing.T) {
	t.Parallel()
	srv := SharedPostgres(t) // skips here, not in the subtest, when there is none
	var schema string
	t.Run("uses a schema", func(t *testing.T) {
		u := srv.NewSchema(t)
		schema = u[strings.LastIndex(u, "search_path=")+len("search_path="):]
	})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.URL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n))
	require.Zero(t, n, "schema %s still exists", schema)
}

// TestPostgresServerRestart: a dedicated server keeps its data and its URL
// across Stop and Start.
func TestPostgresServerRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := NewPostgresServer(t)
	u := srv.NewSchema(t)
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	require.NoError(t, exec(`CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)`))
	require.NoError(t, srv.Stop())
	require.Error(t, exec(`SELECT 1`), "a stopped server refuses connections")
	require.NoError(t, srv.Start())
	conn, err := pgx.Connect(ctx, u)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var x int
	require.NoError(t, conn.QueryRow(ctx, `SELECT x FROM kept`).Scan(&x))
	require.Equal(t, 42, x)
}

func TestS3BucketsAreIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := S3(t), S3(t)
	require.NotEqual(t, a.Bucket, b.Bucket)
	require.Equal(t, a.Endpoint, b.Endpoint)
	c := a.Client(t)
	for _, bucket := range []string{a.Bucket, b.Bucket} {
		exists, err := c.BucketExists(ctx, bucket)
		require.NoError(t, err)
		require.False(t, exists, "the bucket is left for the code under test to create")
	}
	require.NoError(t, c.MakeBucket(ctx, a.Bucket, minio.MakeBucketOptions{}))
	_, err := c.PutObject(ctx, a.Bucket, "k", bytes.NewReader([]byte("v")), 1, minio.PutObjectOptions{})
	require.NoError(t, err)
	_, err = c.StatObject(ctx, b.Bucket, "k", minio.StatObjectOptions{})
	require.Error(t, err)
}

// TestS3BucketRemoved: a test's bucket and its objects are gone after it.
func TestS3BucketRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := SharedMinIO(t) // skips here, not in the subtest, when there is none
	var b S3Bucket
	t.Run("fills a bucket", func(t *testing.T) {
		b = srv.Bucket(t)
		c := b.Client(t)
		require.NoError(t, c.MakeBucket(ctx, b.Bucket, minio.MakeBucketOptions{}))
		for i := range 30 {
			_, err := c.PutObject(ctx, b.Bucket, fmt.Sprintf("p/%d", i), bytes.NewReader(nil), 0, minio.PutObjectOptions{})
			require.NoError(t, err)
		}
	})
	exists, err := b.Client(t).BucketExists(ctx, b.Bucket)
	require.NoError(t, err)
	require.False(t, exists)
}

func TestMinIOServerRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := NewMinIOServer(t)
	b := srv.Bucket(t)
	c := b.Client(t)
	require.NoError(t, c.MakeBucket(ctx, b.Bucket, minio.MakeBucketOptions{}))
	_, err := c.PutObject(ctx, b.Bucket, "kept", bytes.NewReader([]byte("v")), 1, minio.PutObjectOptions{})
	require.NoError(t, err)
	require.NoError(t, srv.Stop())
	require.NoError(t, srv.Start())
	_, err = c.StatObject(ctx, b.Bucket, "kept", minio.StatObjectOptions{})
	require.NoError(t, err)
}

// fakeTB records how mustHave stopped a test, without stopping the real one.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Skipf(format string, args ...any)  { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestMustHave(t *testing.T) {
	// Not parallel: it sets CI.
	missing := &unavailableError{"no widget; `make test` installs it"}
	cases := []struct {
		name, ci      string
		err           error
		skip, fail    bool
		wantInMessage string
	}{
		{"available", "", nil, false, false, ""},
		{"missing locally skips", "", missing, true, false, "make test"},
		{"missing under CI fails", "true", missing, false, true, "CI=true"},
		{"broken fails", "", fmt.Errorf("initdb: exit status 1"), false, true, "initdb"},
		{"broken under CI fails", "true", fmt.Errorf("initdb: exit status 1"), false, true, "initdb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			f := &fakeTB{TB: t}
			mustHave(f, "Widget", tc.err)
			require.Equal(t, tc.skip, f.skipped != "", f.skipped)
			require.Equal(t, tc.fail, f.failed != "", f.failed)
			require.Contains(t, f.skipped+f.failed, tc.wantInMessage)
		})
	}
}

func TestWithSearchPath(t *testing.T) {
	t.Parallel()
	u, err := withSearchPath("postgres://u:p@h:5/db?sslmode=disable", "t_1")
	require.NoError(t, err)
	require.Equal(t, "postgres://u:p@h:5/db?search_path=t_1&sslmode=disable", u)
	_, err = withSearchPath("host=h password=secret", "t_1")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret")
}

func TestCommand(t *testing.T) {
	// Not parallel: it sets CI.
	t.Setenv("CI", "")
	f := &fakeTB{TB: t}
	require.NotEmpty(t, Command(f, "unused", "no-such-tool-dq", "sh"), "the first one found")
	require.Empty(t, f.skipped+f.failed)

	require.Empty(t, Command(f, "apt-get install it", "no-such-tool-dq"))
	require.Contains(t, f.skipped, "no-such-tool-dq")
	require.Contains(t, f.skipped, "apt-get install it")
	require.Empty(t, f.failed)

	t.Setenv("CI", "true")
	f = &fakeTB{TB: t}
	Command(f, "apt-get install it", "no-such-tool-dq")
	require.Empty(t, f.skipped)
	require.Contains(t, f.failed, "CI=true")
}

// The server's clock, as listings show it, moves on after Tick.
func TestS3Clock(t *testing.T) {
	t.Parallel()
	b := S3(t)
	require.NoError(t, b.Client(t).MakeBucket(context.Background(), b.Bucket, minio.MakeBucketOptions{}))
	c := b.ServerClock(t)
	first := c.Now(t)
	require.WithinDuration(t, time.Now(), first, time.Minute, "the server runs on this machine's clock")
	c.Tick(t)
	require.True(t, c.Now(t).After(first))
}
