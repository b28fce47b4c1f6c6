package spool

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

func sampleEntries() []quarantine.Entry {
	qat := time.Date(2026, 11, 26, 8, 0, 0, 123456789, time.UTC)
	return []quarantine.Entry{
		{
			ID: "a", SourceTopic: "orders", SourcePartition: 3, SourceOffset: 42, Key: []byte{0, 1},
			Timestamp: qat.Add(-time.Second), QuarantinedAt: qat, Subject: "orders-value", SchemaVersion: 2,
			ErrorType: record.MissingField, ErrorField: "/id",
			Errors:  []record.Violation{{Type: record.MissingField, Field: "/id", Message: "missing"}},
			Payload: quarantine.PayloadRef{Segment: "s", Offset: 8, Length: 9}, PayloadSize: 3,
			Status: quarantine.StatusQuarantined,
		},
		{ID: "b", QuarantinedAt: qat, Key: []byte{}, Status: quarantine.StatusQuarantined},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	t.Parallel()
	want := sampleEntries()
	data, err := encodeBatch(want)
	require.NoError(t, err)
	got, err := decodeBatch(data)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// TestBatchTornOrFlipped: every truncation and every single-bit flip of a
// spool file is detected, never decoded as other rows.
func TestBatchTornOrFlipped(t *testing.T) {
	t.Parallel()
	data, err := encodeBatch(sampleEntries())
	require.NoError(t, err)
	for n := range len(data) {
		_, err := decodeBatch(data[:n])
		require.ErrorIs(t, err, errCorruptSpool, "truncated to %d bytes", n)
	}
	for i := range data {
		for bit := range 8 {
			flipped := append([]byte(nil), data...)
			flipped[i] ^= 1 << bit
			_, err := decodeBatch(flipped)
			require.ErrorIs(t, err, errCorruptSpool, "bit %d of byte %d flipped", bit, i)
		}
	}
	_, err = decodeBatch(append(data, 0))
	require.ErrorIs(t, err, errCorruptSpool, "trailing bytes")
}

func FuzzDecodeBatch(f *testing.F) {
	data, err := encodeBatch(sampleEntries())
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte(metaMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := decodeBatch(b)
		if err != nil {
			return
		}
		again, err := encodeBatch(entries)
		require.NoError(t, err)
		_, err = decodeBatch(again)
		require.NoError(t, err)
	})
}
