package spool_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/postgres"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/s3"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/spool"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

func TestMain(m *testing.M) {
	testbackend.Main(m, func() error { return goleak.Find() })
}

// Short timeouts: an outage is noticed within seconds.
const (
	testTimeout  = 3 * time.Second
	testInterval = 50 * time.Millisecond
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

func newPostgres(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.New(context.Background(), postgres.Options{URL: url})
	require.NoError(t, err)
	return s
}

func newMetadata(t *testing.T, primary quarantine.MetadataStore, dir string) *spool.Metadata {
	t.Helper()
	m, err := spool.NewMetadata(spool.MetadataOptions{
		Primary: primary, Dir: dir, Timeout: testTimeout, SyncInterval: testInterval, Logger: testLogger(t),
	})
	require.NoError(t, err)
	return m
}

func newS3(t *testing.T, b testbackend.S3Bucket) *s3.Store {
	t.Helper()
	s, err := s3.New(context.Background(), s3.Options{
		Endpoint: b.Endpoint, Bucket: b.Bucket, AccessKey: b.AccessKey, SecretKey: b.SecretKey,
		Secure: b.Secure, Region: b.Region, MaxAttempts: 1,
	})
	require.NoError(t, err)
	return s
}

func newPayloads(t *testing.T, primary quarantine.PayloadStore, dir string) *spool.Payloads {
	t.Helper()
	p, err := spool.NewPayloads(spool.PayloadOptions{
		Primary: primary, Dir: dir, Timeout: testTimeout, SyncInterval: testInterval, Logger: testLogger(t),
	})
	require.NoError(t, err)
	return p
}

// drain runs the syncer until the spool is empty, then stops it.
func drain(t *testing.T, run func(context.Context) error, depth func() (int64, int64, int64)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	testwait.For(t, 2*time.Minute, "the spool to drain", func() error {
		if n, _, _ := depth(); n != 0 {
			return fmt.Errorf("%d spooled", n)
		}
		return nil
	})
	cancel()
	require.NoError(t, <-done)
}

// makeUnwritable replaces dir by a regular file, so nothing can be created
// in it, even by root (to whom a read-only mode means nothing).
func makeUnwritable(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.WriteFile(dir, []byte("not a directory"), 0o600))
}

func TestIsOperational(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"nil":                  {nil, false},
		"deadline":             {fmt.Errorf("inserting: %w", context.DeadlineExceeded), true},
		"caller canceled":      {fmt.Errorf("inserting: %w", context.Canceled), false},
		"connection refused":   {&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		"reset":                {fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		"unexpected EOF":       {fmt.Errorf("x: %w", io.ErrUnexpectedEOF), true},
		"pg admin shutdown":    {&pgconn.PgError{Code: "57P01"}, true},
		"pg too many conns":    {&pgconn.PgError{Code: "53300"}, true},
		"pg connection lost":   {&pgconn.PgError{Code: "08006"}, true},
		"pg unique violation":  {&pgconn.PgError{Code: "23505"}, false},
		"pg bad data":          {fmt.Errorf("x: %w", &pgconn.PgError{Code: "22P02"}), false},
		"s3 503":               {fmt.Errorf("x: %w", minio.ErrorResponse{StatusCode: 503, Code: "ServiceUnavailable"}), true},
		"s3 slow down":         {minio.ErrorResponse{StatusCode: 503, Code: "SlowDown"}, true},
		"s3 500":               {minio.ErrorResponse{StatusCode: 500}, true},
		"s3 access denied":     {minio.ErrorResponse{StatusCode: 403, Code: "AccessDenied"}, false},
		"validation":           {errors.New("entry 0: empty id"), false},
		"not found":            {quarantine.ErrNotFound, false},
		"redacted text":        {errors.New("Put \"http://x/y\": dial tcp 127.0.0.1:1: connect: connection refused"), true},
		"unknown is permanent": {errors.New("something odd"), false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, spool.IsOperational(tc.err))
		})
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	_, err := spool.NewMetadata(spool.MetadataOptions{Dir: t.TempDir()})
	require.ErrorContains(t, err, "Primary is required")
	_, err = spool.NewPayloads(spool.PayloadOptions{Dir: t.TempDir()})
	require.ErrorContains(t, err, "Primary is required")
	dir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(dir, nil, 0o600))
	_, err = spool.NewPayloads(spool.PayloadOptions{Primary: nopPayloads{}, Dir: dir})
	require.Error(t, err)
	_, err = spool.NewPayloads(spool.PayloadOptions{Primary: nopPayloads{}})
	require.Error(t, err)
}

// nopPayloads only satisfies the interface for option checks; no test
// writes through it.
type nopPayloads struct{ quarantine.PayloadStore }
