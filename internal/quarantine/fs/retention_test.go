package fs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
)

func TestRetentionConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExercisePayloadRetention(t, func(t *testing.T) (quarantinetest.RetentionPayloadStore, quarantinetest.SegmentClock) {
		clock := quarantinetest.NewStubClock(time.Date(2026, 11, 3, 10, 0, 0, 123456789, time.UTC))
		s, err := fs.New(fs.Options{Dir: t.TempDir(), Now: clock.Time})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		return s, clock
	})
}

// A segment file's modification time is its write time by the store's
// clock, time.Now unless another is given, and a rewrite restamps it.
func TestSegmentWriteTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := []quarantine.Payload{{Value: []byte("v")}}
	mtime := func(dir, name string) time.Time {
		paths, err := filepath.Glob(filepath.Join(dir, "*", name))
		require.NoError(t, err)
		require.Len(t, paths, 1)
		fi, err := os.Stat(paths[0])
		require.NoError(t, err)
		return fi.ModTime()
	}

	dir := t.TempDir()
	s := newStore(t, dir)
	before := time.Now()
	_, err := s.WriteSegment(ctx, "seg", p)
	require.NoError(t, err)
	got := mtime(dir, "seg")
	// The kernel stamps files from its coarse clock, which may lag
	// time.Now by up to a scheduler tick (1-10 ms), so the lower bound
	// allows for one tick at the slowest tick rate, and then some.
	const coarseClock = 50 * time.Millisecond
	require.False(t, got.Before(before.Add(-coarseClock)), "%v is more than a clock tick before the write began at %v", got, before)
	require.False(t, got.After(time.Now()), "%v is after the write", got)

	dir = t.TempDir()
	clock := quarantinetest.NewStubClock(time.Date(2020, 2, 29, 12, 0, 0, 5000, time.UTC))
	s, err = fs.New(fs.Options{Dir: dir, Now: clock.Time})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	_, err = s.WriteSegment(ctx, "seg", p)
	require.NoError(t, err)
	require.True(t, clock.Time().Equal(mtime(dir, "seg")))
	clock.Tick(t)
	_, err = s.WriteSegment(ctx, "seg", p)
	require.NoError(t, err)
	require.True(t, clock.Time().Equal(mtime(dir, "seg")), "a rewrite restamps")
}
