package record_test

import (
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

func TestIDIsDeterministicAndDistinct(t *testing.T) {
	t.Parallel()
	id := record.ID("raw-events", 3, 12345)
	require.Equal(t, id, record.ID("raw-events", 3, 12345), "a redelivered record keeps its id")
	require.Len(t, id, 40)
	require.Regexp(t, "^[0-9a-f]{40}$", id)
	r := record.Record{Topic: "raw-events", Partition: 3, Offset: 12345}
	require.Equal(t, id, r.ID())

	seen := map[string]string{}
	add := func(topic string, p int32, off int64) {
		got := record.ID(topic, p, off)
		key := fmt.Sprint(topic, "|", p, "|", off)
		prev, dup := seen[got]
		require.False(t, dup, "%s collides with %s", key, prev)
		seen[got] = key
	}
	// Neighbours in every coordinate, and topic names that only a separator
	// tells apart from partition bytes.
	for _, topic := range []string{"a", "ab", "a\x00", "raw-events", "raw-events2"} {
		for p := int32(0); p < 3; p++ {
			for off := int64(0); off < 3; off++ {
				add(topic, p, off)
			}
		}
	}
	add("raw-events", -1, -1)
}

// Ids of one partition sort by offset: stores append instead of scattering.
func TestIDSortsByOffsetWithinAPartition(t *testing.T) {
	t.Parallel()
	prev := record.ID("raw-events", 2, 0)
	for _, off := range []int64{1, 2, 255, 256, 65535, 1 << 40} {
		id := record.ID("raw-events", 2, off)
		require.Less(t, prev, id, "offset %d", off)
		prev = id
	}
}

func TestErrorTypesAreKnown(t *testing.T) {
	t.Parallel()
	require.Len(t, record.ErrorTypes, 15)
	for _, et := range record.ErrorTypes {
		require.True(t, et.Known(), et)
	}
	require.False(t, record.ErrorType("NOPE").Known())
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	var v record.Verdict
	require.True(t, v.Valid())
	require.Equal(t, record.Violation{}, v.Primary())
	v.Subject, v.Version = "s", 2
	v.Violations = append(v.Violations, record.Violation{Type: record.MissingField}, record.Violation{Type: record.TypeMismatch})
	require.False(t, v.Valid())
	require.Equal(t, record.MissingField, v.Primary().Type)
	v.Reset()
	require.True(t, v.Valid())
	require.Empty(t, v.Subject)
	require.Zero(t, v.Version)
	require.Equal(t, 2, cap(v.Violations), "Reset keeps the backing array")
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 6, "é…"},  // a cut inside é moves back to its start
		{"abcdef", 2, "ab"}, // no room for the mark: still at most n bytes
		{"éé", 1, ""},
		{"abc", 0, ""},
	} {
		got := record.Truncate(tc.s, tc.n)
		require.Equal(t, tc.want, got, "%q to %d", tc.s, tc.n)
		require.LessOrEqual(t, len(got), max(tc.n, 0))
		require.True(t, utf8.ValidString(got))
	}
}
