package spool_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

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
