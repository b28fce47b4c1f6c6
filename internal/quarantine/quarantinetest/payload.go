package quarantinetest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// payloadSuite holds ExercisePayloads' subtests, one method each.
type payloadSuite struct {
	newStore func(t *testing.T) quarantine.PayloadStore
}

// writeSegment stores payloads as segment name and checks the refs' shape.
func writeSegment(t *testing.T, s quarantine.PayloadStore, name string, payloads []quarantine.Payload) []quarantine.PayloadRef {
	t.Helper()
	refs, err := s.WriteSegment(context.Background(), name, payloads)
	require.NoError(t, err)
	require.Len(t, refs, len(payloads))
	for _, ref := range refs {
		require.Equal(t, name, ref.Segment)
		require.Positive(t, ref.Length)
	}
	return refs
}

// readSegment checks that every ref reads back its payload exactly.
func readSegment(t *testing.T, s quarantine.PayloadStore, refs []quarantine.PayloadRef, want []quarantine.Payload) {
	t.Helper()
	require.Len(t, refs, len(want))
	for i, w := range want {
		got, err := s.Read(context.Background(), refs[i])
		require.NoError(t, err, "payload %d", i)
		require.Equal(t, w, got, "payload %d", i)
	}
}

// ExercisePayloads runs the PayloadStore conformance suite.
func ExercisePayloads(t *testing.T, newStore func(t *testing.T) quarantine.PayloadStore) {
	t.Helper()
	pl := payloadSuite{newStore: newStore}
	t.Run("RoundTrip", pl.roundTrip)
	t.Run("Preview", pl.preview)
	t.Run("EmptySegment", pl.emptySegment)
	t.Run("SeveralSegments", pl.severalSegments)
	t.Run("SegmentNames", pl.segmentNames)
	t.Run("Rewrite", pl.rewrite)
	t.Run("NotFound", pl.notFound)
	t.Run("Corrupt", pl.corrupt)
	t.Run("ConcurrentWriters", pl.concurrentWriters)
	t.Run("ConcurrentReads", pl.concurrentReads)
	t.Run("ContextCanceled", pl.contextCanceled)
	// Not parallel, so the suite's other subtests allocate nothing while it
	// measures.
	t.Run("PreviewIsBounded", pl.previewIsBounded)
}

func (pl payloadSuite) roundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	cases := []struct {
		name string
		p    quarantine.Payload
	}{
		{"json", quarantine.Payload{Value: []byte(`{"user_id":42,"email":"a@b.c"}`)}},
		{"nil value (tombstone)", quarantine.Payload{Value: nil}},
		{"empty value", quarantine.Payload{Value: []byte{}}},
		{"binary", quarantine.Payload{Value: []byte{0, 0xff, 0xfe, 0x80, 0x00, 0x01, 0x7f}}},
		{"unicode", quarantine.Payload{Value: []byte("héllo wörld ✓ 日本語 🔥")}},
		{"1 MiB", quarantine.Payload{Value: big}},
		{"headers", quarantine.Payload{Value: []byte("v"), Headers: []record.Header{
			{Key: "content-type", Value: []byte("application/json")},
			{Key: "dup", Value: []byte("first")},
			{Key: "trace", Value: []byte{0, 1, 2, 0xff}},
			{Key: "dup", Value: []byte("second")},
			{Key: "empty", Value: []byte{}},
			{Key: "null", Value: nil},
			{Key: "", Value: []byte("empty key")},
			{Key: "ключ-✓", Value: []byte("значение")},
			{Key: "dup", Value: []byte("first")},
		}}},
		{"headers with a tombstone", quarantine.Payload{Value: nil, Headers: []record.Header{{Key: "k", Value: []byte("v")}}}},
	}
	s := pl.newStore(t)
	all := make([]quarantine.Payload, len(cases))
	for i, tc := range cases {
		all[i] = tc.p
		t.Run(tc.name+" alone", func(t *testing.T) {
			refs := writeSegment(t, s, fmt.Sprintf("alone-%d", i), []quarantine.Payload{tc.p})
			readSegment(t, s, refs, []quarantine.Payload{tc.p})
		})
	}
	t.Run("all in one segment", func(t *testing.T) {
		refs := writeSegment(t, s, "together", all)
		readSegment(t, s, refs, all)
		got, err := s.Read(ctx, refs[1])
		require.NoError(t, err)
		require.Nil(t, got.Value, "a tombstone stays nil")
		got, err = s.Read(ctx, refs[2])
		require.NoError(t, err)
		require.NotNil(t, got.Value, "an empty value stays non-nil")
		got, err = s.Read(ctx, refs[6])
		require.NoError(t, err)
		require.NotNil(t, got.Headers[4].Value, "an empty header value stays non-nil")
		require.Nil(t, got.Headers[5].Value, "a null header value stays nil")
	})
}

func (pl payloadSuite) preview(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	ps := []quarantine.Payload{
		{Value: []byte(`{"user_id":"<b>x</b>"}`), Headers: []record.Header{{Key: "h", Value: []byte("v")}}},
		{Value: nil},
		{Value: []byte{}},
		{Value: []byte{0, 0xff, 0xfe}},
		{Value: []byte("héllo ✓")},
		{Value: big},
	}
	s := pl.newStore(t)
	refs := writeSegment(t, s, "preview", ps)
	for i, ref := range refs {
		for _, n := range []int{0, 1, 5, 127, 128, 1000, len(big), len(big) + 1} {
			got, err := s.Preview(ctx, ref, n)
			require.NoError(t, err, "payload %d, %d bytes", i, n)
			v := ps[i].Value
			require.Equal(t, int64(len(v)), got.Size, "payload %d size", i)
			require.Equal(t, v == nil, got.Null, "payload %d null", i)
			require.Equal(t, v[:min(n, len(v))], got.Value, "payload %d, %d bytes", i, n)
			require.Equal(t, n < len(v), got.Truncated(), "payload %d, %d bytes", i, n)
		}
	}
	got, err := s.Preview(ctx, refs[0], -1)
	require.NoError(t, err)
	require.Empty(t, got.Value, "a negative length previews nothing")
}

// previewIsBounded: previews of a big payload allocate a small part of
// what reading it would.
func (pl payloadSuite) previewIsBounded(t *testing.T) {
	ctx := context.Background()
	s := pl.newStore(t)
	big := bytes.Repeat([]byte{'x'}, 16<<20)
	refs := writeSegment(t, s, "big", []quarantine.Payload{{Value: big}})
	const previews = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range previews {
		got, err := s.Preview(ctx, refs[0], 200)
		require.NoError(t, err)
		require.Len(t, got.Value, 200)
	}
	runtime.ReadMemStats(&after)
	// Reading the payload whole would allocate 320 MiB.
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(previews*len(big)/10),
		"previews of a %d-byte payload allocated %d bytes", len(big), after.TotalAlloc-before.TotalAlloc)
}

func (pl payloadSuite) emptySegment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pl.newStore(t)
	refs, err := s.WriteSegment(ctx, "empty", nil)
	require.NoError(t, err)
	require.Empty(t, refs)
}

func (pl payloadSuite) severalSegments(t *testing.T) {
	t.Parallel()
	s := pl.newStore(t)
	type seg struct {
		refs []quarantine.PayloadRef
		want []quarantine.Payload
	}
	var segs []seg
	for n := range 5 {
		ps := make([]quarantine.Payload, n+1)
		for i := range ps {
			ps[i] = quarantine.Payload{Value: []byte(fmt.Sprintf("segment %d payload %d", n, i))}
		}
		segs = append(segs, seg{writeSegment(t, s, fmt.Sprintf("raw-events-%d-%020d", n, n*100), ps), ps})
	}
	for _, sg := range segs {
		readSegment(t, s, sg.refs, sg.want)
	}
}

func (pl payloadSuite) segmentNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pl.newStore(t)
	p := []quarantine.Payload{{Value: []byte("x")}}
	for _, name := range []string{"a", strings.Repeat("n", 200), ".hidden", "A.b-c_d.0", "..."} {
		refs := writeSegment(t, s, name, p)
		readSegment(t, s, refs, p)
	}
	for _, name := range []string{"", strings.Repeat("n", 201), ".", "..", "a/b", "../x", `a\b`, "a b", "ü", "a~b", "a\x00b", "a:b"} {
		_, err := s.WriteSegment(ctx, name, p)
		require.Error(t, err, "name %q", name)
	}
}

func (pl payloadSuite) rewrite(t *testing.T) {
	t.Parallel()
	s := pl.newStore(t)
	first := []quarantine.Payload{{Value: []byte("old one")}, {Value: []byte("old two")}}
	writeSegment(t, s, "batch", first)
	// A redelivered batch rewrites its segment; its contents may differ
	// (say, a different batch boundary) and the new ones win.
	second := []quarantine.Payload{{Value: []byte("new")}, {Value: []byte("new two, longer")}, {Value: nil}}
	refs := writeSegment(t, s, "batch", second)
	readSegment(t, s, refs, second)
	// The same contents again give the same refs.
	again := writeSegment(t, s, "batch", second)
	require.Equal(t, refs, again)
	readSegment(t, s, again, second)
}

func (pl payloadSuite) notFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pl.newStore(t)
	refs := writeSegment(t, s, "exists", []quarantine.Payload{{Value: []byte("hello")}, {Value: []byte("world")}})
	last := refs[len(refs)-1]
	end := last.Offset + last.Length
	cases := []struct {
		name string
		ref  quarantine.PayloadRef
	}{
		{"missing segment", quarantine.PayloadRef{Segment: "missing", Offset: refs[0].Offset, Length: refs[0].Length}},
		{"empty segment name", quarantine.PayloadRef{Offset: refs[0].Offset, Length: refs[0].Length}},
		{"invalid segment name", quarantine.PayloadRef{Segment: "../exists", Offset: refs[0].Offset, Length: refs[0].Length}},
		{"past the end", quarantine.PayloadRef{Segment: "exists", Offset: end, Length: 10}},
		{"overlapping the end", quarantine.PayloadRef{Segment: "exists", Offset: last.Offset, Length: last.Length + 1}},
		{"far past the end", quarantine.PayloadRef{Segment: "exists", Offset: 1 << 40, Length: 10}},
		{"huge length", quarantine.PayloadRef{Segment: "exists", Offset: 0, Length: 1 << 62}},
		{"negative offset", quarantine.PayloadRef{Segment: "exists", Offset: -1, Length: 10}},
		{"zero length", quarantine.PayloadRef{Segment: "exists", Offset: refs[0].Offset, Length: 0}},
		{"negative length", quarantine.PayloadRef{Segment: "exists", Offset: refs[0].Offset, Length: -5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Read(ctx, tc.ref)
			require.ErrorIs(t, err, quarantine.ErrNotFound)
			_, err = s.Preview(ctx, tc.ref, 3)
			require.ErrorIs(t, err, quarantine.ErrNotFound, "Preview")
		})
	}
}

func (pl payloadSuite) corrupt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pl.newStore(t)
	refs := writeSegment(t, s, "exists", []quarantine.Payload{{Value: []byte("hello")}, {Value: []byte("world")}})
	// Ranges inside the segment that are not exactly one frame.
	cases := []struct {
		name string
		ref  quarantine.PayloadRef
	}{
		{"shifted", quarantine.PayloadRef{Segment: "exists", Offset: refs[0].Offset + 1, Length: refs[0].Length}},
		{"short", quarantine.PayloadRef{Segment: "exists", Offset: refs[0].Offset, Length: refs[0].Length - 1}},
		{"two frames", quarantine.PayloadRef{Segment: "exists", Offset: refs[0].Offset, Length: refs[0].Length + refs[1].Length}},
		{"segment header", quarantine.PayloadRef{Segment: "exists", Offset: 0, Length: refs[0].Length}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Read(ctx, tc.ref)
			require.ErrorIs(t, err, quarantine.ErrCorrupt)
			_, err = s.Preview(ctx, tc.ref, 3)
			require.ErrorIs(t, err, quarantine.ErrCorrupt, "Preview")
		})
	}
}

func (pl payloadSuite) concurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pl.newStore(t)
	const writers, segments = 4, 8
	payloads := func(w, n int) []quarantine.Payload {
		ps := make([]quarantine.Payload, 10)
		for i := range ps {
			ps[i] = quarantine.Payload{Value: bytes.Repeat([]byte{byte(w), byte(n), byte(i)}, 100*(i+1))}
		}
		return ps
	}
	type result struct {
		refs []quarantine.PayloadRef
		want []quarantine.Payload
	}
	results := make([][]result, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range segments {
				ps := payloads(w, n)
				refs, err := s.WriteSegment(ctx, fmt.Sprintf("w%d-s%d", w, n), ps)
				if err != nil {
					t.Errorf("writer %d segment %d: %v", w, n, err)
					return
				}
				results[w] = append(results[w], result{refs, ps})
				// Every writer also rewrites one shared name with the
				// same contents, as redelivered batches do.
				if _, err := s.WriteSegment(ctx, "shared", payloads(99, 99)); err != nil {
					t.Errorf("writer %d shared segment: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for w := range results {
		require.Len(t, results[w], segments)
		for _, r := range results[w] {
			readSegment(t, s, r.refs, r.want)
		}
	}
	want := payloads(99, 99)
	refs := writeSegment(t, s, "shared", want)
	readSegment(t, s, refs, want)
}

func (pl payloadSuite) concurrentReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pl.newStore(t)
	ps := []quarantine.Payload{{Value: []byte("a")}, {Value: []byte("b")}, {Value: []byte("c")}}
	refs := writeSegment(t, s, "seg", ps)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				for i, ref := range refs {
					got, err := s.Read(ctx, ref)
					if err != nil || !bytes.Equal(got.Value, ps[i].Value) {
						t.Errorf("read %d: %v %q", i, err, got.Value)
						return
					}
				}
			}
		})
	}
	// Rewrites with identical contents while reads are under way never
	// make a read fail.
	for range 5 {
		writeSegment(t, s, "seg", ps)
	}
	wg.Wait()
}

func (pl payloadSuite) contextCanceled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pl.newStore(t)
	refs := writeSegment(t, s, "seg", []quarantine.Payload{{Value: []byte("a")}})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.WriteSegment(cctx, "other", []quarantine.Payload{{Value: []byte("a")}})
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Read(cctx, refs[0])
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Preview(cctx, refs[0], 1)
	require.ErrorIs(t, err, context.Canceled)
}

// RetentionPayloadStore is a payload store with retention.
type RetentionPayloadStore interface {
	quarantine.PayloadStore
	quarantine.SegmentPurger
}

// SegmentClock is the clock a payload store stamps its segments' write
// times with, as ExercisePayloadRetention drives it: a StubClock injected
// into a store that takes its clock as an option, or the clock of the
// server a store writes to.
type SegmentClock interface {
	// Now returns the time a segment written now is stamped with.
	Now(t testing.TB) time.Time
	// Tick returns once every segment written from now on is stamped
	// later than every segment written before.
	Tick(t testing.TB)
}

// StubClock is a SegmentClock for stores whose clock is an option (the fs
// store's Options.Now, given Time): Tick moves it a second on, so nothing
// waits. It is safe for concurrent use.
type StubClock struct {
	mu  sync.Mutex
	now time.Time
}

var _ SegmentClock = (*StubClock)(nil)

// NewStubClock returns a StubClock reading start.
func NewStubClock(start time.Time) *StubClock { return &StubClock{now: start} }

// Time returns the clock's time: the function to inject.
func (c *StubClock) Time() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Now returns the clock's time.
func (c *StubClock) Now(testing.TB) time.Time { return c.Time() }

// Tick moves the clock a second on.
func (c *StubClock) Tick(testing.TB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
}

// ExercisePayloadRetention runs the SegmentPurger conformance suite.
// newStore returns an empty store and the clock it stamps segments with.
func ExercisePayloadRetention(t *testing.T, newStore func(t *testing.T) (RetentionPayloadStore, SegmentClock)) {
	t.Helper()
	ctx := context.Background()
	t.Run("DeletesSegmentsWrittenBeforeTheCutoff", func(t *testing.T) {
		t.Parallel()
		s, clock := newStore(t)
		n, err := s.DeleteSegmentsBefore(ctx, clock.Now(t).Add(time.Hour))
		require.NoError(t, err)
		require.Zero(t, n, "an empty store")

		p := []quarantine.Payload{{Value: []byte("one")}, {Value: []byte("two")}}
		write := func(name string) []quarantine.PayloadRef {
			refs, err := s.WriteSegment(ctx, name, p)
			require.NoError(t, err)
			return refs
		}
		old1, old2, rewritten := write("old-1"), write("old-2"), write("rewritten")
		clock.Tick(t)
		cutoff := clock.Now(t)
		newer := write("new-1")
		require.Equal(t, rewritten, write("rewritten"), "a re-written batch counts from the rewrite")

		n, err = s.DeleteSegmentsBefore(ctx, cutoff)
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
		for _, refs := range [][]quarantine.PayloadRef{old1, old2} {
			for _, ref := range refs {
				_, err := s.Read(ctx, ref)
				require.ErrorIs(t, err, quarantine.ErrNotFound, "segment %s is deleted", ref.Segment)
			}
		}
		for _, refs := range [][]quarantine.PayloadRef{newer, rewritten} {
			for i, ref := range refs {
				got, err := s.Read(ctx, ref)
				require.NoError(t, err, "segment %s is kept", ref.Segment)
				require.Equal(t, p[i], got)
			}
		}
		n, err = s.DeleteSegmentsBefore(ctx, cutoff)
		require.NoError(t, err)
		require.Zero(t, n, "nothing more at the same cutoff")

		n, err = s.DeleteSegmentsBefore(ctx, clock.Now(t).Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, int64(2), n, "a later cutoff takes the rest")
		_, err = s.Read(ctx, newer[0])
		require.ErrorIs(t, err, quarantine.ErrNotFound)
	})
}
