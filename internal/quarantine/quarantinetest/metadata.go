// Package quarantinetest is the conformance suite every quarantine driver
// runs from its own tests, so all drivers behave exactly alike (after River's
// riverdrivertest.Exercise):
//
//	func TestConformance(t *testing.T) {
//		quarantinetest.ExerciseMetadata(t, func(t *testing.T) quarantine.MetadataStore { ... })
//	}
//
// newStore must return an empty store private to the calling test and close
// it in a t.Cleanup. Subtests run in parallel.
package quarantinetest

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// base is the QuarantinedAt of the suite's fixtures; nanoseconds are set to
// catch drivers that lose precision.
var base = time.Date(2026, 11, 3, 10, 0, 0, 123456789, time.UTC)

// NewEntry returns a complete, valid entry for the record at (topic,
// partition, offset), quarantined at qat. Tests change what they need.
func NewEntry(topic string, partition int32, offset int64, qat time.Time) quarantine.Entry {
	id := record.ID(topic, partition, offset)
	return quarantine.Entry{
		ID:              id,
		SourceTopic:     topic,
		SourcePartition: partition,
		SourceOffset:    offset,
		Key:             []byte(fmt.Sprintf("key-%d", offset)),
		Timestamp:       qat.Add(-time.Second),
		QuarantinedAt:   qat,
		Subject:         topic + "-value",
		SchemaVersion:   1,
		ErrorType:       record.MissingField,
		ErrorField:      "/user_id",
		Errors: []record.Violation{{
			Type: record.MissingField, Field: "/user_id", Keyword: "required",
			Message: "missing property 'user_id'",
		}},
		Payload:     quarantine.PayloadRef{Segment: "seg-" + id[:8], Offset: 8, Length: 42},
		PayloadSize: 33,
		Status:      quarantine.StatusQuarantined,
	}
}

// metadataSuite holds ExerciseMetadata's subtests, one method each.
type metadataSuite struct {
	newStore func(t *testing.T) quarantine.MetadataStore
}

// setup returns a fresh store holding entries.
func (m metadataSuite) setup(t *testing.T, entries ...quarantine.Entry) quarantine.MetadataStore {
	t.Helper()
	s := m.newStore(t)
	require.NoError(t, s.Insert(context.Background(), entries))
	return s
}

// ExerciseMetadata runs the MetadataStore conformance suite.
func ExerciseMetadata(t *testing.T, newStore func(t *testing.T) quarantine.MetadataStore) {
	t.Helper()
	m := metadataSuite{newStore: newStore}
	t.Run("RoundTrip", m.roundTrip)
	t.Run("TimestampsBeyondNanoseconds", m.timestampsBeyondNanoseconds)
	t.Run("TimesComeBackUTC", m.timesComeBackUTC)
	t.Run("InsertEmptyBatch", m.insertEmptyBatch)
	t.Run("InsertRejectsInvalid", m.insertRejectsInvalid)
	t.Run("Idempotent", m.idempotent)
	t.Run("GetNotFound", m.getNotFound)
	t.Run("ListFilters", m.listFilters)
	t.Run("LongErrorField", m.longErrorField)
	t.Run("ListOrderTiesByID", m.listOrderTiesByID)
	t.Run("Paging", m.paging)
	t.Run("Limit", m.limit)
	t.Run("BadCursor", m.badCursor)
	t.Run("CountByErrorType", m.countByErrorType)
	t.Run("ConcurrentInserts", m.concurrentInserts)
	t.Run("ContextCanceled", m.contextCanceled)
}

func (m metadataSuite) roundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	full := NewEntry("orders", 7, 1<<40, base)
	full.SchemaVersion = 12
	full.Errors = append(full.Errors,
		record.Violation{Type: record.PatternMismatch, Field: "/email", Keyword: "pattern", Message: `does not match "^.+@.+$"`},
		record.Violation{Type: record.RuleViolation, Field: "", Keyword: "future_timestamp_check", Message: "Timestamp cannot be in future"},
	)
	full.PayloadSize = 1 << 20
	full.Payload = quarantine.PayloadRef{Segment: "orders-7-1099511627776", Offset: 1 << 33, Length: 1<<20 + 16}

	unicode := NewEntry("événements-ü", 0, 1, base.Add(time.Nanosecond))
	unicode.Key = []byte("clé 🔑")
	unicode.Subject = "sujet-✓"
	unicode.ErrorField = "/ñame/0/日本"
	unicode.Errors = []record.Violation{{Type: record.TypeMismatch, Field: "/ñame/0/日本", Keyword: "type", Message: "expected string, got number ✗"}}

	cases := []struct {
		name string
		e    quarantine.Entry
	}{
		{"full", full},
		{"unicode", unicode},
		{"nil key", func() quarantine.Entry { e := NewEntry("t", 0, 2, base); e.Key = nil; return e }()},
		{"empty key", func() quarantine.Entry { e := NewEntry("t", 0, 3, base); e.Key = []byte{}; return e }()},
		{"binary key", func() quarantine.Entry { e := NewEntry("t", 0, 4, base); e.Key = []byte{0, 0xff, 0xfe, 0x80}; return e }()},
		{"nil errors", func() quarantine.Entry { e := NewEntry("t", 0, 5, base); e.Errors = nil; return e }()},
		{"empty errors", func() quarantine.Entry { e := NewEntry("t", 0, 6, base); e.Errors = []record.Violation{}; return e }()},
		{"zero timestamp", func() quarantine.Entry { e := NewEntry("t", 0, 7, base); e.Timestamp = time.Time{}; return e }()},
		{"pre-epoch timestamp", func() quarantine.Entry {
			e := NewEntry("t", 0, 8, base)
			e.Timestamp = time.UnixMilli(-1).UTC()
			return e
		}()},
		{"zero values", quarantine.Entry{ID: "zero", QuarantinedAt: base}},
		{"negative partition and offset", NewEntry("t", -1, -1, base)},
		{"other status", func() quarantine.Entry {
			e := NewEntry("t", 0, 9, base)
			e.Status = quarantine.StatusFailedAgain
			return e
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := m.setup(t, tc.e)
			got, err := s.Get(ctx, tc.e.ID)
			require.NoError(t, err)
			require.Equal(t, tc.e, got)
		})
	}
}

// Kafka timestamps are milliseconds, int64 nanoseconds end in 2262 (and
// begin in 1677): a producer's far date is saturated, never refused (a
// refused row would hold its batch back for good).
func (m metadataSuite) timestampsBeyondNanoseconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	far := NewEntry("t", 0, 1, base)
	far.Timestamp = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	early := NewEntry("t", 0, 2, base)
	early.Timestamp = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	s := m.setup(t, far, early)
	got, err := s.Get(ctx, far.ID)
	require.NoError(t, err)
	require.Equal(t, time.Unix(0, math.MaxInt64).UTC(), got.Timestamp)
	got, err = s.Get(ctx, early.ID)
	require.NoError(t, err)
	require.Equal(t, time.Unix(0, math.MinInt64).UTC(), got.Timestamp)
}

func (m metadataSuite) timesComeBackUTC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := NewEntry("t", 0, 1, time.Date(2026, 11, 3, 12, 0, 0, 5, time.FixedZone("CET", 3600)))
	e.Timestamp = time.Now() // local, with a monotonic reading
	s := m.setup(t, e)
	got, err := s.Get(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, time.UTC, got.QuarantinedAt.Location())
	require.True(t, e.QuarantinedAt.Equal(got.QuarantinedAt))
	require.True(t, e.Timestamp.Equal(got.Timestamp))
	require.Equal(t, e.Timestamp.UTC().Round(0), got.Timestamp)
}

func (m metadataSuite) insertEmptyBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := m.setup(t)
	require.NoError(t, s.Insert(ctx, nil))
	require.NoError(t, s.Insert(ctx, []quarantine.Entry{}))
	page, err := s.List(ctx, quarantine.Filter{})
	require.NoError(t, err)
	require.Empty(t, page.Entries)
	require.Empty(t, page.NextCursor)
}

func (m metadataSuite) insertRejectsInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := map[string]quarantine.Entry{
		"empty id":            {QuarantinedAt: base},
		"zero quarantined at": {ID: "x"},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := m.setup(t)
			good := NewEntry("t", 0, 1, base)
			require.Error(t, s.Insert(ctx, []quarantine.Entry{good, e}))
			// The batch is atomic: the good entry is not stored either.
			_, err := s.Get(ctx, good.ID)
			require.ErrorIs(t, err, quarantine.ErrNotFound)
		})
	}
}

func (m metadataSuite) idempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first := NewEntry("t", 0, 1, base)
	second := first
	second.ErrorType = record.TypeMismatch
	second.Status = quarantine.StatusDiscarded
	second.QuarantinedAt = base.Add(time.Hour)
	other := NewEntry("t", 0, 2, base)

	cases := []struct {
		name    string
		batches [][]quarantine.Entry
	}{
		{"same batch", [][]quarantine.Entry{{first, other, second}}},
		{"across batches", [][]quarantine.Entry{{first, other}, {second}}},
		{"replayed batch", [][]quarantine.Entry{{first, other}, {first, other}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := m.setup(t)
			for _, b := range tc.batches {
				require.NoError(t, s.Insert(ctx, b))
			}
			got, err := s.Get(ctx, first.ID)
			require.NoError(t, err)
			require.Equal(t, first, got, "the first write wins")
			page, err := s.List(ctx, quarantine.Filter{})
			require.NoError(t, err)
			want := []string{first.ID, other.ID} // same QuarantinedAt: ID DESC
			slices.Sort(want)
			slices.Reverse(want)
			require.Equal(t, want, ids(page.Entries))
			counts, err := s.CountByErrorType(ctx)
			require.NoError(t, err)
			require.Equal(t, map[record.ErrorType]int64{record.MissingField: 2}, counts)
		})
	}
}

func (m metadataSuite) getNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := m.setup(t, NewEntry("t", 0, 1, base))
	for _, id := range []string{"", "nope", record.ID("t", 0, 2)} {
		_, err := s.Get(ctx, id)
		require.ErrorIs(t, err, quarantine.ErrNotFound, "id %q", id)
	}
}

func (m metadataSuite) listFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Eight entries, one minute apart, varying every filtered field.
	var entries []quarantine.Entry
	for i := range 8 {
		e := NewEntry([]string{"orders", "payments"}[i%2], 0, int64(i), base.Add(time.Duration(i)*time.Minute))
		e.ErrorType = []record.ErrorType{record.MissingField, record.TypeMismatch, record.PatternMismatch}[i%3]
		e.ErrorField = []string{"/user_id", "/amount"}[i/4]
		e.Subject = []string{"orders-value", "orders-value-v2", "payments-value", "orders-value"}[i%4]
		e.Status = []quarantine.Status{quarantine.StatusQuarantined, quarantine.StatusReprocessed}[i/6]
		entries = append(entries, e)
	}
	s := m.setup(t, entries...)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }

	cases := []struct {
		name string
		f    quarantine.Filter
		want []int // indexes into entries, newest first
	}{
		{"none", quarantine.Filter{}, []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{"error type", quarantine.Filter{ErrorType: record.TypeMismatch}, []int{7, 4, 1}},
		{"unknown error type", quarantine.Filter{ErrorType: record.RuleViolation}, nil},
		{"field", quarantine.Filter{Field: "/amount"}, []int{7, 6, 5, 4}},
		{"field is exact", quarantine.Filter{Field: "/amoun"}, nil},
		{"topic", quarantine.Filter{Topic: "payments"}, []int{7, 5, 3, 1}},
		{"subject", quarantine.Filter{Subject: "orders-value"}, []int{7, 4, 3, 0}},
		{"subject is exact", quarantine.Filter{Subject: "orders"}, nil},
		{"status", quarantine.Filter{Status: quarantine.StatusReprocessed}, []int{7, 6}},
		{"since inclusive", quarantine.Filter{Since: at(5)}, []int{7, 6, 5}},
		{"since between", quarantine.Filter{Since: at(5).Add(-time.Nanosecond)}, []int{7, 6, 5}},
		{"since after", quarantine.Filter{Since: at(5).Add(time.Nanosecond)}, []int{7, 6}},
		{"until exclusive", quarantine.Filter{Until: at(2)}, []int{1, 0}},
		{"until after", quarantine.Filter{Until: at(2).Add(time.Nanosecond)}, []int{2, 1, 0}},
		{"since and until", quarantine.Filter{Since: at(2), Until: at(5)}, []int{4, 3, 2}},
		{"empty window", quarantine.Filter{Since: at(5), Until: at(5)}, nil},
		{"since in another zone", quarantine.Filter{Since: at(6).In(time.FixedZone("X", -7*3600))}, []int{7, 6}},
		{"far past and future", quarantine.Filter{Since: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{"topic and error type", quarantine.Filter{Topic: "payments", ErrorType: record.TypeMismatch}, []int{7, 1}},
		{"field and status", quarantine.Filter{Field: "/amount", Status: quarantine.StatusQuarantined}, []int{5, 4}},
		{"all", quarantine.Filter{
			ErrorType: record.TypeMismatch, Field: "/amount", Topic: "payments", Subject: "orders-value",
			Status: quarantine.StatusReprocessed, Since: at(7), Until: at(8),
		}, []int{7}},
		{"all but one mismatch", quarantine.Filter{
			ErrorType: record.TypeMismatch, Field: "/amount", Topic: "payments", Subject: "orders-value",
			Status: quarantine.StatusQuarantined, Since: at(7), Until: at(8),
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := s.List(ctx, tc.f)
			require.NoError(t, err)
			want := make([]quarantine.Entry, 0, len(tc.want))
			for _, i := range tc.want {
				want = append(want, entries[i])
			}
			require.Equal(t, want, page.Entries)
			require.Empty(t, page.NextCursor)
			n, err := s.Count(ctx, tc.f)
			require.NoError(t, err)
			require.Equal(t, int64(len(tc.want)), n, "Count")
		})
	}
}

// longErrorField: the primary violation's field is a JSON pointer a
// producer makes as long as it likes (a key of any length, a value nested
// thousands of levels deep). A 100 KB one, of random characters no
// compression shrinks, is stored, read back whole and filtered on, and does
// not fail the batch it came in.
func (m metadataSuite) longErrorField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 50_000)
	for i := range raw {
		raw[i] = byte(rnd.Uint32())
	}
	field := "/" + hex.EncodeToString(raw)
	long := NewEntry("t", 0, 1, base)
	long.ErrorType, long.ErrorField = record.ParseError, field
	long.Errors = []record.Violation{{Type: record.ParseError, Field: field, Message: "invalid character 'x' looking for beginning of value"}}
	short := NewEntry("t", 0, 2, base.Add(time.Second))
	s := m.setup(t, long, short)

	got, err := s.Get(ctx, long.ID)
	require.NoError(t, err)
	require.Equal(t, long, got)
	page, err := s.List(ctx, quarantine.Filter{Field: field})
	require.NoError(t, err)
	require.Equal(t, []quarantine.Entry{long}, page.Entries)
	page, err = s.List(ctx, quarantine.Filter{})
	require.NoError(t, err)
	require.Equal(t, []quarantine.Entry{short, long}, page.Entries)
}

func (m metadataSuite) listOrderTiesByID(t *testing.T) {
	t.Parallel()
	// Same QuarantinedAt everywhere: ID DESC decides, across pages too.
	var entries []quarantine.Entry
	for i := range 7 {
		entries = append(entries, NewEntry("t", 0, int64(i), base))
	}
	s := m.setup(t, entries...)
	want := ids(entries)
	slices.Sort(want)
	slices.Reverse(want)
	require.Equal(t, want, ids(listAll(t, s, quarantine.Filter{Limit: 3})))
}

func (m metadataSuite) paging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var entries []quarantine.Entry
	for i := range 10 {
		// Pairs share a timestamp, so page boundaries fall between ties.
		e := NewEntry("t", 0, int64(i), base.Add(time.Duration(i/2)*time.Second))
		if i%2 == 0 {
			e.ErrorType = record.TypeMismatch
		}
		entries = append(entries, e)
	}
	s := m.setup(t, entries...)
	all := listAll(t, s, quarantine.Filter{Limit: 1000})
	require.Len(t, all, 10)

	cases := []struct {
		name  string
		f     quarantine.Filter
		pages []int // sizes
	}{
		{"pages of 2", quarantine.Filter{Limit: 2}, []int{2, 2, 2, 2, 2}},
		{"pages of 3", quarantine.Filter{Limit: 3}, []int{3, 3, 3, 1}},
		{"pages of 5", quarantine.Filter{Limit: 5}, []int{5, 5}},
		{"one page", quarantine.Filter{Limit: 10}, []int{10}},
		{"filtered pages of 2", quarantine.Filter{Limit: 2, ErrorType: record.TypeMismatch}, []int{2, 2, 1}},
		{"windowed pages of 2", quarantine.Filter{Limit: 2, Since: base.Add(time.Second), Until: base.Add(4 * time.Second)}, []int{2, 2, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []quarantine.Entry
			var sizes []int
			f := tc.f
			for {
				page, err := s.List(ctx, f)
				require.NoError(t, err)
				got = append(got, page.Entries...)
				sizes = append(sizes, len(page.Entries))
				if page.NextCursor == "" {
					break
				}
				require.Less(t, len(sizes), 20, "paging does not end")
				f.Cursor = page.NextCursor
			}
			require.Equal(t, tc.pages, sizes)
			// No duplicates, no gaps: the concatenation is exactly the
			// unpaged result.
			unpaged := tc.f
			unpaged.Limit = 1000
			page, err := s.List(ctx, unpaged)
			require.NoError(t, err)
			require.Equal(t, ids(page.Entries), ids(got))
		})
	}

	t.Run("insert while paging", func(t *testing.T) {
		t.Parallel()
		s := m.setup(t, entries...)
		page, err := s.List(ctx, quarantine.Filter{Limit: 4})
		require.NoError(t, err)
		// Newer rows arrive: they belong before the cursor and must not
		// shift what later pages return.
		require.NoError(t, s.Insert(ctx, []quarantine.Entry{NewEntry("t", 0, 100, base.Add(time.Hour))}))
		rest := listAll(t, s, quarantine.Filter{Limit: 4, Cursor: page.NextCursor})
		require.Equal(t, ids(all[4:]), ids(rest))
	})
}

func (m metadataSuite) limit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := quarantine.MaxLimit + 5
	entries := make([]quarantine.Entry, n)
	for i := range entries {
		entries[i] = NewEntry("t", 0, int64(i), base.Add(time.Duration(i)*time.Millisecond))
	}
	s := m.setup(t, entries...)
	cases := []struct {
		limit, want int
		more        bool
	}{
		{0, quarantine.DefaultLimit, true},
		{-3, quarantine.DefaultLimit, true},
		{1, 1, true},
		{quarantine.MaxLimit, quarantine.MaxLimit, true},
		{quarantine.MaxLimit + 1, quarantine.MaxLimit, true},
		{1 << 30, quarantine.MaxLimit, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			t.Parallel()
			page, err := s.List(ctx, quarantine.Filter{Limit: tc.limit})
			require.NoError(t, err)
			require.Len(t, page.Entries, tc.want)
			require.Equal(t, tc.more, page.NextCursor != "")
		})
	}
	t.Run("Count ignores limit and cursor", func(t *testing.T) {
		t.Parallel()
		page, err := s.List(ctx, quarantine.Filter{Limit: 10})
		require.NoError(t, err)
		for _, f := range []quarantine.Filter{{}, {Limit: 1}, {Limit: 10, Cursor: page.NextCursor}, {Cursor: "not a cursor"}} {
			got, err := s.Count(ctx, f)
			require.NoError(t, err)
			require.Equal(t, int64(n), got, "%+v", f)
		}
		got, err := s.Count(ctx, quarantine.Filter{Since: entries[n-3].QuarantinedAt})
		require.NoError(t, err)
		require.Equal(t, int64(3), got)
	})
	t.Run("exact fit has no next page", func(t *testing.T) {
		t.Parallel()
		s := m.setup(t, entries[:3]...)
		page, err := s.List(ctx, quarantine.Filter{Limit: 3})
		require.NoError(t, err)
		require.Len(t, page.Entries, 3)
		require.Empty(t, page.NextCursor)
	})
}

func (m metadataSuite) badCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := m.setup(t, NewEntry("t", 0, 1, base))
	for _, c := range []string{"garbage!", "%%%", "AA", "=", "\x00"} {
		_, err := s.List(ctx, quarantine.Filter{Cursor: c})
		require.ErrorIs(t, err, quarantine.ErrBadCursor, "cursor %q", c)
	}
}

func (m metadataSuite) countByErrorType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := m.setup(t)
	counts, err := s.CountByErrorType(ctx)
	require.NoError(t, err)
	require.Empty(t, counts)
	n, err := s.Count(ctx, quarantine.Filter{})
	require.NoError(t, err)
	require.Zero(t, n, "Count of an empty store")

	var entries []quarantine.Entry
	for i := range 6 {
		e := NewEntry("t", 0, int64(i), base)
		e.ErrorType = []record.ErrorType{record.MissingField, record.MissingField, record.MissingField, record.ParseError, record.ParseError, record.SchemaViolation}[i]
		e.Status = quarantine.StatusReprocessed // every status counts
		entries = append(entries, e)
	}
	require.NoError(t, s.Insert(ctx, entries))
	counts, err = s.CountByErrorType(ctx)
	require.NoError(t, err)
	require.Equal(t, map[record.ErrorType]int64{
		record.MissingField: 3, record.ParseError: 2, record.SchemaViolation: 1,
	}, counts)
}

func (m metadataSuite) concurrentInserts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := m.setup(t)
	const writers, batches, size = 4, 5, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := make([]quarantine.Entry, size)
				for i := range batch {
					// Writers overlap on half their ids.
					off := int64(b*size + i)
					if i%2 == 0 {
						off += int64(w) * 1_000_000
					}
					batch[i] = NewEntry("t", 0, off, base.Add(time.Duration(off)))
				}
				errs <- s.Insert(ctx, batch)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	all := listAll(t, s, quarantine.Filter{Limit: quarantine.MaxLimit})
	require.Len(t, all, writers*batches*size/2+batches*size/2)
}

func (m metadataSuite) contextCanceled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := m.setup(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	e := NewEntry("t", 0, 1, base)
	require.ErrorIs(t, s.Insert(cctx, []quarantine.Entry{e}), context.Canceled)
	_, err := s.Get(ctx, e.ID)
	require.ErrorIs(t, err, quarantine.ErrNotFound)
}

func ids(entries []quarantine.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}

// listAll follows NextCursor to the end.
func listAll(t *testing.T, s quarantine.MetadataStore, f quarantine.Filter) []quarantine.Entry {
	t.Helper()
	var all []quarantine.Entry
	for range 10_000 {
		page, err := s.List(context.Background(), f)
		require.NoError(t, err)
		all = append(all, page.Entries...)
		if page.NextCursor == "" {
			return all
		}
		f.Cursor = page.NextCursor
	}
	t.Fatal("paging does not end")
	return nil
}
