package quarantine_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

func samplePayloads() []quarantine.Payload {
	return []quarantine.Payload{
		{Value: []byte(`{"user_id":42}`), Headers: []record.Header{{Key: "content-type", Value: []byte("application/json")}}},
		{Value: nil},      // tombstone
		{Value: []byte{}}, // empty, not a tombstone
		{Value: []byte{0x00, 0xff, 0x80, 0x01}, Headers: []record.Header{
			{Key: "dup", Value: []byte("1")},
			{Key: "dup", Value: []byte("2")},
			{Key: "", Value: []byte{}},
			{Key: "null", Value: nil},
			{Key: "ключ", Value: []byte("значение ✓")},
		}},
		{Value: bytes.Repeat([]byte("x"), 300)},
	}
}

func TestSegmentRoundTrip(t *testing.T) {
	t.Parallel()
	in := samplePayloads()
	data, refs, err := quarantine.EncodeSegment(in)
	require.NoError(t, err)
	require.Len(t, refs, len(in))
	require.Equal(t, quarantine.SegmentHeader, string(data[:len(quarantine.SegmentHeader)]))

	next := int64(len(quarantine.SegmentHeader))
	for i, ref := range refs {
		require.Empty(t, ref.Segment)
		require.Equal(t, next, ref.Offset, "frames are contiguous")
		next = ref.Offset + ref.Length
		got, err := quarantine.DecodeFrame(data[ref.Offset : ref.Offset+ref.Length])
		require.NoError(t, err)
		require.Equal(t, in[i], got, "payload %d", i)
	}
	require.Equal(t, int64(len(data)), next, "no bytes after the last frame")
	require.Nil(t, mustDecode(t, data, refs[1]).Value, "tombstone stays nil")
	require.NotNil(t, mustDecode(t, data, refs[2]).Value, "empty value stays non-nil")
	require.Nil(t, mustDecode(t, data, refs[3]).Headers[3].Value, "null header value stays nil")
	require.NotNil(t, mustDecode(t, data, refs[3]).Headers[2].Value, "empty header value stays non-nil")

	all, err := quarantine.DecodeSegment(data)
	require.NoError(t, err)
	require.Equal(t, in, all)
}

func mustDecode(t *testing.T, data []byte, ref quarantine.PayloadRef) quarantine.Payload {
	t.Helper()
	p, err := quarantine.DecodeFrame(data[ref.Offset : ref.Offset+ref.Length])
	require.NoError(t, err)
	return p
}

func TestSegmentEmpty(t *testing.T) {
	t.Parallel()
	data, refs, err := quarantine.EncodeSegment(nil)
	require.NoError(t, err)
	require.Empty(t, refs)
	require.Equal(t, quarantine.SegmentHeader, string(data))
	all, err := quarantine.DecodeSegment(data)
	require.NoError(t, err)
	require.Empty(t, all)
}

func TestSegmentFrameFormat(t *testing.T) {
	t.Parallel()
	// The exact bytes of one small frame, so the format cannot drift
	// unnoticed: a segment written today must be readable by every later
	// version.
	data, refs, err := quarantine.EncodeSegment([]quarantine.Payload{{
		Value:   []byte("hi"),
		Headers: []record.Header{{Key: "k", Value: nil}, {Key: "", Value: []byte{}}},
	}})
	require.NoError(t, err)
	frame := data[refs[0].Offset:]
	body := []byte{
		3, 'h', 'i', // value: len+1, bytes
		2,         // two headers
		1, 'k', 0, // "k", nil
		0, 1, // "", empty
	}
	want := []byte{1, 0, 0, 0, byte(len(body))}
	want = append(want, body...)
	want = binary.BigEndian.AppendUint32(want, crc32.Checksum(want, crc32.MakeTable(crc32.Castagnoli)))
	require.Equal(t, want, frame)
}

func TestDecodeFrameCorrupt(t *testing.T) {
	t.Parallel()
	data, refs, err := quarantine.EncodeSegment(samplePayloads())
	require.NoError(t, err)
	ref := refs[3]
	frame := data[ref.Offset : ref.Offset+ref.Length]

	// withCRC recomputes the checksum, so a test reaches the body checks.
	withCRC := func(b []byte) []byte {
		b = append([]byte(nil), b...)
		binary.BigEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli)))
		return b
	}
	frameWithBody := func(body []byte) []byte {
		b := []byte{1, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], uint32(len(body)))
		b = append(b, body...)
		return withCRC(append(b, 0, 0, 0, 0))
	}
	cases := []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"short", frame[:5]},
		{"truncated", frame[:len(frame)-1]},
		{"trailing byte", append(append([]byte(nil), frame...), 0)},
		{"bad version", withCRC(append([]byte{2}, frame[1:]...))},
		{"length overruns", withCRC(append([]byte{1, 0xff, 0xff, 0xff, 0xff}, frame[5:]...))},
		{"flipped body bit", func() []byte { b := append([]byte(nil), frame...); b[7] ^= 0x10; return b }()},
		{"flipped crc bit", func() []byte { b := append([]byte(nil), frame...); b[len(b)-1] ^= 1; return b }()},
		{"value overruns body", frameWithBody([]byte{10, 'a', 0})},
		{"header count overruns", frameWithBody([]byte{0, 0x80, 0x80, 0x80, 0x80, 0x08})},
		{"header key overruns", frameWithBody([]byte{0, 1, 9, 'k', 0})},
		{"header value missing", frameWithBody([]byte{0, 1, 1, 'k'})},
		{"trailing body bytes", frameWithBody([]byte{0, 0, 7})},
		{"non-minimal varint", frameWithBody([]byte{0x81, 0x00, 0})},
		{"varint overflow", frameWithBody([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0})},
		{"empty body", frameWithBody(nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := quarantine.DecodeFrame(tc.b)
			require.ErrorIs(t, err, quarantine.ErrCorrupt)
		})
	}
}

func TestDecodeSegmentCorrupt(t *testing.T) {
	t.Parallel()
	data, _, err := quarantine.EncodeSegment(samplePayloads())
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"no header":      data[1:],
		"truncated":      data[:len(data)-3],
		"flipped bit":    func() []byte { b := append([]byte(nil), data...); b[len(b)/2] ^= 4; return b }(),
		"trailing bytes": append(append([]byte(nil), data...), 1, 2),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := quarantine.DecodeSegment(b)
			require.ErrorIs(t, err, quarantine.ErrCorrupt)
		})
	}
}

func BenchmarkEncodeSegment(b *testing.B) {
	payloads := make([]quarantine.Payload, 500)
	for i := range payloads {
		payloads[i] = quarantine.Payload{
			Value:   bytes.Repeat([]byte("v"), 300),
			Headers: []record.Header{{Key: "content-type", Value: []byte("application/json")}},
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := quarantine.EncodeSegment(payloads); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	data, refs, err := quarantine.EncodeSegment([]quarantine.Payload{{
		Value:   bytes.Repeat([]byte("v"), 300),
		Headers: []record.Header{{Key: "content-type", Value: []byte("application/json")}},
	}})
	require.NoError(b, err)
	frame := data[refs[0].Offset:]
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := quarantine.DecodeFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValidateSegmentName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a", "seg-0123abcd", "A.b-c_d.0", ".hidden", "...", strings.Repeat("x", 200)} {
		require.NoError(t, quarantine.ValidateSegmentName(name), "name %q", name)
	}
	for _, name := range []string{"", ".", "..", strings.Repeat("x", 201), "a/b", `a\b`, "a b", "a~b", "ü", "a\x00", "a:b", "a*"} {
		require.Error(t, quarantine.ValidateSegmentName(name), "name %q", name)
	}
}
