package spool_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func TestPayloadsConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExercisePayloads(t, func(t *testing.T) quarantine.PayloadStore {
		p := newPayloads(t, newS3(t, testbackend.S3(t)), t.TempDir())
		t.Cleanup(func() {
			require.NoError(t, p.Close())
			segs, _, _ := p.Depth()
			require.Zero(t, segs, "a healthy primary never spools")
		})
		return p
	})
}

func payloads(seg, n int) []quarantine.Payload {
	var ps []quarantine.Payload
	for i := range n {
		p := quarantine.Payload{Value: fmt.Appendf(nil, `{"segment":%d,"i":%d}`, seg, i)}
		if i%2 == 1 {
			p.Headers = []record.Header{{Key: "trace", Value: []byte{byte(i)}}, {Key: "null", Value: nil}}
		}
		if i == 2 {
			p.Value = nil // a tombstone
		}
		ps = append(ps, p)
	}
	return ps
}

func segName(i int) string { return fmt.Sprintf("orders-0-%06d", i) }

func requireReads(t *testing.T, s quarantine.PayloadStore, refs []quarantine.PayloadRef, want []quarantine.Payload) {
	t.Helper()
	for i, ref := range refs {
		got, err := s.Read(context.Background(), ref)
		require.NoError(t, err, "payload %d of %s", i, ref.Segment)
		require.Equal(t, want[i], got, "payload %d of %s", i, ref.Segment)
	}
}

// TestSpooledRefsMatchEveryDriver: the refs of a spooled segment are the
// ones the fs and S3 drivers return for the same payloads.
func TestSpooledRefsMatchEveryDriver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	want := payloads(1, 5)
	fsStore, err := fs.New(fs.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, fsStore.Close()) })
	fsRefs, err := fsStore.WriteSegment(ctx, segName(1), want)
	require.NoError(t, err)

	srv := testbackend.NewMinIOServer(t)
	b := srv.Bucket(t)
	p := newPayloads(t, newS3(t, b), t.TempDir())
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	require.NoError(t, srv.Stop())
	spoolRefs, err := p.WriteSegment(ctx, segName(1), want)
	require.NoError(t, err)
	require.Equal(t, fsRefs, spoolRefs)
	require.NoError(t, srv.Start())
	drain(t, p.Run, p.Depth)

	direct := newS3(t, b)
	t.Cleanup(func() { require.NoError(t, direct.Close()) })
	s3Refs, err := direct.WriteSegment(ctx, segName(2), want)
	require.NoError(t, err)
	for i := range s3Refs {
		s3Refs[i].Segment = segName(1)
	}
	require.Equal(t, spoolRefs, s3Refs)
	requireReads(t, direct, spoolRefs, want)
}

// TestPayloadsMinIOOutage: MinIO stopped mid-stream; segments are spooled
// and served locally, then drained and served from S3, every payload intact.
func TestPayloadsMinIOOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testbackend.NewMinIOServer(t)
	b := srv.Bucket(t)
	dir := t.TempDir()
	p := newPayloads(t, newS3(t, b), dir)
	t.Cleanup(func() { require.NoError(t, p.Close()) })

	written := map[int][]quarantine.PayloadRef{}
	write := func(i int) {
		t.Helper()
		refs, err := p.WriteSegment(ctx, segName(i), payloads(i, 4))
		require.NoError(t, err)
		written[i] = refs
	}
	write(0)
	segs, _, _ := p.Depth()
	require.Zero(t, segs)

	require.NoError(t, srv.Stop())
	for i := 1; i <= 3; i++ {
		write(i)
	}
	write(2) // a redelivered batch rewrites its segment
	segs, n, bytes := p.Depth()
	require.Equal(t, []int64{3, 12}, []int64{segs, n})
	require.Positive(t, bytes)
	for i := 1; i <= 3; i++ {
		requireReads(t, p, written[i], payloads(i, 4))
	}
	_, err := p.Read(ctx, written[0][0])
	require.Error(t, err, "a segment only in the stopped primary cannot be read")
	require.NotErrorIs(t, err, quarantine.ErrNotFound, "and is not reported missing")
	_, err = p.WriteSegment(ctx, "bad/name", payloads(9, 1))
	require.Error(t, err, "a bad name is returned, not spooled")

	require.NoError(t, srv.Start())
	write(4) // queued behind the spooled ones
	segs, _, _ = p.Depth()
	require.Equal(t, int64(4), segs)

	drain(t, p.Run, p.Depth)
	segs, n, bytes = p.Depth()
	require.Zero(t, segs+n+bytes)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)

	direct := newS3(t, b)
	t.Cleanup(func() { require.NoError(t, direct.Close()) })
	for i := 0; i <= 4; i++ {
		requireReads(t, p, written[i], payloads(i, 4))
		requireReads(t, direct, written[i], payloads(i, 4))
	}
	_, err = p.Read(ctx, quarantine.PayloadRef{Segment: segName(99), Offset: 8, Length: 10})
	require.ErrorIs(t, err, quarantine.ErrNotFound)
}

// TestPayloadsRestartCorruptAndUnwritable: a spool left by an earlier
// process is drained by the next one, a damaged segment is set aside, and an
// unwritable spool fails the write.
func TestPayloadsRestartCorruptAndUnwritable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testbackend.NewMinIOServer(t)
	b := srv.Bucket(t)
	dir := filepath.Join(t.TempDir(), "spool")

	p1 := newPayloads(t, newS3(t, b), dir)
	require.NoError(t, srv.Stop())
	refs := map[int][]quarantine.PayloadRef{}
	for i := range 3 {
		r, err := p1.WriteSegment(ctx, segName(i), payloads(i, 3))
		require.NoError(t, err)
		refs[i] = r
	}
	require.NoError(t, p1.Close())

	// Tear the last segment mid-frame.
	last := filepath.Join(dir, segName(2))
	fi, err := os.Stat(last)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(last, fi.Size()-3))

	require.NoError(t, srv.Start())
	p2 := newPayloads(t, newS3(t, b), dir)
	t.Cleanup(func() { require.NoError(t, p2.Close()) })
	segs, _, _ := p2.Depth()
	require.Equal(t, int64(3), segs)
	drain(t, p2.Run, p2.Depth)
	for i := range 2 {
		requireReads(t, p2, refs[i], payloads(i, 3))
	}
	_, err = os.Stat(last + "~corrupt")
	require.NoError(t, err, "the damaged segment is kept for an operator")
	_, err = p2.Read(ctx, refs[2][2])
	require.ErrorIs(t, err, quarantine.ErrNotFound)

	require.NoError(t, srv.Stop())
	makeUnwritable(t, dir)
	_, err = p2.WriteSegment(ctx, segName(5), payloads(5, 2))
	require.ErrorContains(t, err, "payload spool")
	segs, _, _ = p2.Depth()
	require.Zero(t, segs)
	require.NoError(t, srv.Start())
}
