package spool

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
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

func TestBatchRoundTripEveryField(t *testing.T) {
	t.Parallel()
	want := []quarantine.Entry{{
		ID: "x", SourceTopic: "t", SourcePartition: -1, SourceOffset: -1, Key: []byte{0xff},
		Timestamp: time.Date(9999, 1, 1, 0, 0, 0, 1, time.UTC), QuarantinedAt: time.Unix(0, 1).UTC(),
		Subject: "s", SchemaVersion: 7, ErrorType: record.RuleViolation, ErrorField: "/a",
		Errors: []record.Violation{}, Payload: quarantine.PayloadRef{Segment: "seg", Offset: 1 << 40, Length: 3},
		PayloadSize: 1 << 30, Status: quarantine.StatusReprocessed,
		StatusChangedAt: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), StatusActor: "ana", StatusReason: "ünïcode",
		Job: "j", ReplayCount: 3, Corrected: true,
	}}
	data, err := encodeBatch(want)
	require.NoError(t, err)
	got, err := decodeBatch(data)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// A spool file an older gateway wrote (version 1, a JSON array) is still
// drained.
func TestBatchVersion1(t *testing.T) {
	t.Parallel()
	want := sampleEntries()
	body, err := json.Marshal(want)
	require.NoError(t, err)
	data := append([]byte(metaMagic), metaVersionJSON)
	data = binary.BigEndian.AppendUint32(data, uint32(len(want)))
	data = binary.BigEndian.AppendUint32(data, uint32(len(body)))
	data = append(data, body...)
	data = binary.BigEndian.AppendUint32(data, crc32.Checksum(data[len(metaMagic):], castagnoli))
	got, err := decodeBatch(data)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func BenchmarkBatchCodec(b *testing.B) {
	qat := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	entries := make([]quarantine.Entry, 500)
	for i := range entries {
		entries[i] = sampleEntries()[0]
		entries[i].SourceOffset = int64(i)
		entries[i].QuarantinedAt = qat
	}
	b.ReportAllocs()
	for b.Loop() {
		data, err := encodeBatch(entries)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeBatch(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(entries)), "ns/entry")
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
