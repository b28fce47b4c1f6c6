package fs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newStore(t *testing.T, dir string) *fs.Store {
	t.Helper()
	s, err := fs.New(fs.Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExercisePayloads(t, func(t *testing.T) quarantine.PayloadStore {
		return newStore(t, t.TempDir())
	})
}

func TestNewRequiresDir(t *testing.T) {
	t.Parallel()
	_, err := fs.New(fs.Options{})
	require.ErrorContains(t, err, "Dir is required")
}

func TestNewCreatesDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	newStore(t, dir)
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.True(t, fi.IsDir())
}

// TestReopen checks that segments outlive the store that wrote them, and
// that a crash's leftover temporary files are cleaned up and never read.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	want := []quarantine.Payload{{Value: []byte("durable")}}

	s, err := fs.New(fs.Options{Dir: dir})
	require.NoError(t, err)
	refs, err := s.WriteSegment(ctx, "seg-1", want)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	// One file per segment, in a shard directory, and nothing else.
	files := listFiles(t, dir)
	require.Len(t, files, 1)
	require.Equal(t, "seg-1", filepath.Base(files[0]))
	stale := filepath.Join(filepath.Dir(files[0]), "seg-2~12345")
	require.NoError(t, os.WriteFile(stale, []byte("half a segment"), 0o600))

	s2 := newStore(t, dir)
	got, err := s2.Read(ctx, refs[0])
	require.NoError(t, err)
	require.Equal(t, want[0], got)
	require.Equal(t, files, listFiles(t, dir), "stale temporary file removed")
	_, err = s2.Read(ctx, quarantine.PayloadRef{Segment: "seg-2", Offset: 8, Length: 10})
	require.ErrorIs(t, err, quarantine.ErrNotFound)
}

func TestSharding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := newStore(t, dir)
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		_, err := s.WriteSegment(ctx, name, []quarantine.Payload{{Value: []byte(name)}})
		require.NoError(t, err)
	}
	shards := map[string]bool{}
	for _, f := range listFiles(t, dir) {
		rel, err := filepath.Rel(dir, f)
		require.NoError(t, err)
		parts := strings.Split(rel, string(filepath.Separator))
		require.Len(t, parts, 2, "file %s is <shard>/<name>", rel)
		require.Regexp(t, `^[0-9a-f]{2}$`, parts[0])
		shards[parts[0]] = true
	}
	require.Greater(t, len(shards), 1, "names spread over shards")
}

func TestCorruptSegmentOnDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := newStore(t, dir)
	refs, err := s.WriteSegment(ctx, "seg", []quarantine.Payload{{Value: []byte("hello")}, {Value: []byte("world")}})
	require.NoError(t, err)
	files := listFiles(t, dir)
	require.Len(t, files, 1)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	data[refs[1].Offset+6] ^= 0x20 // a bit flips on disk
	require.NoError(t, os.WriteFile(files[0], data, 0o600))

	got, err := s.Read(ctx, refs[0])
	require.NoError(t, err, "the undamaged frame still reads")
	require.Equal(t, []byte("hello"), got.Value)
	_, err = s.Read(ctx, refs[1])
	require.ErrorIs(t, err, quarantine.ErrCorrupt)

	require.NoError(t, os.Truncate(files[0], refs[1].Offset+3))
	_, err = s.Read(ctx, refs[1])
	require.ErrorIs(t, err, quarantine.ErrNotFound, "a truncated segment no longer holds the range")
}

func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := fs.New(fs.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	refs, err := s.WriteSegment(ctx, "seg", []quarantine.Payload{{Value: []byte("x")}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = s.WriteSegment(ctx, "seg2", nil)
	require.Error(t, err)
	_, err = s.Read(ctx, refs[0])
	require.Error(t, err)
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}))
	return files
}

// BenchmarkWriteSegment writes 500-payload segments of 300-byte values: one
// file, one fsync of it and one of its directory per segment.
func BenchmarkWriteSegment(b *testing.B) {
	ctx := context.Background()
	s, err := fs.New(fs.Options{Dir: b.TempDir()})
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	payloads := make([]quarantine.Payload, 500)
	for i := range payloads {
		payloads[i] = quarantine.Payload{Value: []byte(strings.Repeat("v", 300))}
	}
	b.SetBytes(500 * 300)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := s.WriteSegment(ctx, fmt.Sprintf("seg-%d", n), payloads); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*len(payloads))/b.Elapsed().Seconds(), "payloads/s")
}

func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	s, err := fs.New(fs.Options{Dir: b.TempDir()})
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	refs, err := s.WriteSegment(ctx, "seg", []quarantine.Payload{{Value: []byte(strings.Repeat("v", 300))}})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Read(ctx, refs[0]); err != nil {
			b.Fatal(err)
		}
	}
}
