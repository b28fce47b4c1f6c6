package wire_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/wire"
)

var guid = wire.GUID{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestParse(t *testing.T) {
	t.Parallel()
	payload := []byte("\x02\x06abc")
	idPrefix := []byte{0, 0, 0, 1, 0x2c} // id 300
	guidPrefix := cat([]byte{1}, guid[:])
	cases := []struct {
		name        string
		value       []byte
		headers     []record.Header
		opts        wire.Options
		want        wire.Header
		wantPayload []byte
		wantOK      bool
		wantErr     string
	}{
		{name: "JSON has no wire header", value: []byte(`{"a":1}`), wantPayload: []byte(`{"a":1}`)},
		{name: "empty value", value: []byte{}, wantPayload: []byte{}},
		{name: "tombstone", value: nil, wantPayload: nil},
		{
			name: "id prefix", value: cat(idPrefix, payload),
			want: wire.Header{Magic: wire.MagicID, ID: 300, Source: wire.Prefix}, wantPayload: payload, wantOK: true,
		},
		{
			name: "id prefix, empty payload", value: idPrefix,
			want: wire.Header{Magic: wire.MagicID, ID: 300, Source: wire.Prefix}, wantPayload: []byte{}, wantOK: true,
		},
		{
			name: "id with the top bit set reads unsigned, as sent", value: []byte{0, 0xff, 0xff, 0xff, 0xfe},
			want: wire.Header{Magic: wire.MagicID, ID: 4294967294, Source: wire.Prefix}, wantPayload: []byte{}, wantOK: true,
		},
		{
			name: "the largest id", value: []byte{0, 0xff, 0xff, 0xff, 0xff},
			want: wire.Header{Magic: wire.MagicID, ID: 4294967295, Source: wire.Prefix}, wantPayload: []byte{}, wantOK: true,
		},
		{
			name: "GUID prefix", value: cat(guidPrefix, payload),
			want: wire.Header{Magic: wire.MagicGUID, GUID: guid, Source: wire.Prefix}, wantPayload: payload, wantOK: true,
		},
		{
			name: "Protobuf first message shortcut", value: cat(idPrefix, []byte{0}, payload), opts: wire.Options{Protobuf: true},
			want: wire.Header{Magic: wire.MagicID, ID: 300, MessageIndexes: []int{0}, Source: wire.Prefix}, wantPayload: payload, wantOK: true,
		},
		{
			// count 2 (zigzag 4), indexes 1 (2) and 64 (128 = 0x80 0x01).
			name: "Protobuf nested message", value: cat(guidPrefix, []byte{4, 2, 0x80, 0x01}, payload), opts: wire.Options{Protobuf: true},
			want: wire.Header{Magic: wire.MagicGUID, GUID: guid, MessageIndexes: []int{1, 64}, Source: wire.Prefix}, wantPayload: payload, wantOK: true,
		},
		{
			name: "without Protobuf the indexes are payload", value: cat(idPrefix, []byte{0}, payload),
			want: wire.Header{Magic: wire.MagicID, ID: 300, Source: wire.Prefix}, wantPayload: cat([]byte{0}, payload), wantOK: true,
		},
		{
			name: "id in the header, whole value is payload", value: []byte(`{"a":1}`),
			headers: []record.Header{{Key: "trace", Value: []byte("x")}, {Key: wire.ValueSchemaIDHeader, Value: idPrefix}},
			want:    wire.Header{Magic: wire.MagicID, ID: 300, Source: wire.RecordHeader}, wantPayload: []byte(`{"a":1}`), wantOK: true,
		},
		{
			name: "GUID in the header", value: payload,
			headers: []record.Header{{Key: wire.ValueSchemaIDHeader, Value: guidPrefix}},
			want:    wire.Header{Magic: wire.MagicGUID, GUID: guid, Source: wire.RecordHeader}, wantPayload: payload, wantOK: true,
		},
		{
			name: "the header wins over a prefix", value: cat(idPrefix, payload),
			headers: []record.Header{{Key: wire.ValueSchemaIDHeader, Value: guidPrefix}},
			want:    wire.Header{Magic: wire.MagicGUID, GUID: guid, Source: wire.RecordHeader}, wantPayload: cat(idPrefix, payload), wantOK: true,
		},
		{
			name: "the last header wins", value: payload,
			headers: []record.Header{{Key: wire.ValueSchemaIDHeader, Value: []byte{0, 0, 0, 0, 1}}, {Key: wire.ValueSchemaIDHeader, Value: idPrefix}},
			want:    wire.Header{Magic: wire.MagicID, ID: 300, Source: wire.RecordHeader}, wantPayload: payload, wantOK: true,
		},
		{
			name: "Protobuf indexes in the header", value: payload, opts: wire.Options{Protobuf: true},
			headers: []record.Header{{Key: wire.ValueSchemaIDHeader, Value: cat(guidPrefix, []byte{2, 6})}},
			want:    wire.Header{Magic: wire.MagicGUID, GUID: guid, MessageIndexes: []int{3}, Source: wire.RecordHeader}, wantPayload: payload, wantOK: true,
		},
		{
			name: "key header is ignored for values", value: payload,
			headers: []record.Header{{Key: wire.KeySchemaIDHeader, Value: idPrefix}}, wantPayload: payload,
		},
		{
			name: "key header for keys", value: payload, opts: wire.Options{Key: true},
			headers: []record.Header{{Key: wire.KeySchemaIDHeader, Value: idPrefix}},
			want:    wire.Header{Magic: wire.MagicID, ID: 300, Source: wire.RecordHeader}, wantPayload: payload, wantOK: true,
		},

		{name: "magic byte alone", value: []byte{0}, wantErr: "wire header: malformed schema id: magic byte 0x00 needs a 4-byte schema id, only 0 bytes follow"},
		{name: "id cut short", value: []byte{0, 0, 1}, wantErr: "wire header: malformed schema id: magic byte 0x00 needs a 4-byte schema id, only 2 bytes follow"},
		{name: "GUID cut short", value: guidPrefix[:10], wantErr: "wire header: malformed schema id: magic byte 0x01 needs a 16-byte schema GUID, only 9 bytes follow"},
		{name: "indexes missing", value: idPrefix, opts: wire.Options{Protobuf: true}, wantErr: "wire header: malformed schema id: message index count is cut short"},
		{name: "index cut short", value: cat(idPrefix, []byte{4, 2, 0x80}), opts: wire.Options{Protobuf: true}, wantErr: "message index 1 is cut short"},
		{name: "negative count", value: cat(idPrefix, []byte{3, 2}), opts: wire.Options{Protobuf: true}, wantErr: "-2 message indexes (want 0 to 128)"},
		{name: "too many indexes", value: cat(idPrefix, []byte{0x82, 0x02}, make([]byte, 200)), opts: wire.Options{Protobuf: true}, wantErr: "129 message indexes (want 0 to 128)"},
		{name: "more indexes than bytes", value: cat(idPrefix, []byte{8, 2}), opts: wire.Options{Protobuf: true}, wantErr: "4 message indexes announced, only 1 bytes follow"},
		{name: "negative index", value: cat(idPrefix, []byte{2, 1}), opts: wire.Options{Protobuf: true}, wantErr: "message index 0 is negative (-1)"},
		{name: "varint overflow", value: cat(idPrefix, []byte{0xff, 0xff, 0xff, 0xff, 0x7f}), opts: wire.Options{Protobuf: true}, wantErr: "message index count overflows 32 bits"},
		{name: "varint too long", value: cat(idPrefix, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), opts: wire.Options{Protobuf: true}, wantErr: "message index count overflows 32 bits"},
		{
			name: "empty header", value: payload, headers: []record.Header{{Key: wire.ValueSchemaIDHeader}},
			wantErr: "__value_schema_id header: malformed schema id: empty",
		},
		{
			name: "header with an unknown magic byte", value: payload, headers: []record.Header{{Key: wire.ValueSchemaIDHeader, Value: []byte("300")}},
			wantErr: "__value_schema_id header: malformed schema id: unknown magic byte 0x33 (want 0x00 or 0x01)",
		},
		{
			name: "header with trailing bytes", value: payload, headers: []record.Header{{Key: wire.ValueSchemaIDHeader, Value: cat(idPrefix, []byte{9})}},
			wantErr: "__value_schema_id header: malformed schema id: 1 bytes after the schema id",
		},
		{
			name: "header cut short", value: payload, headers: []record.Header{{Key: wire.ValueSchemaIDHeader, Value: guidPrefix[:16]}},
			wantErr: "__value_schema_id header: malformed schema id: magic byte 0x01 needs a 16-byte schema GUID, only 15 bytes follow",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h, payload, ok, err := wire.Parse(c.value, c.headers, c.opts)
			if c.wantErr != "" {
				require.ErrorIs(t, err, wire.ErrMalformed)
				require.ErrorContains(t, err, c.wantErr)
				require.False(t, ok)
				require.Nil(t, payload)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.wantOK, ok)
			require.Equal(t, c.want, h)
			require.Equal(t, c.wantPayload, payload)
		})
	}
}

// franz-go's sr.ConfluentHeader, a real Confluent-format encoder, writes
// what Parse reads.
func TestParseAgreesWithFranzGo(t *testing.T) {
	t.Parallel()
	var ch sr.ConfluentHeader
	cases := []struct {
		name  string
		id    int
		index []int
	}{
		{"id 1", 1, nil},
		{"large id", 1<<31 - 1, nil},
		{"first message", 7, []int{0}},
		{"second message", 7, []int{1}},
		{"nested", 7, []int{2, 0, 5}},
		{"large index", 7, []int{1 << 20}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b, err := ch.AppendEncode(nil, c.id, c.index)
			require.NoError(t, err)
			b = append(b, "payload"...)
			h, payload, ok, err := wire.Parse(b, nil, wire.Options{Protobuf: c.index != nil})
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, c.id, h.ID)
			require.Equal(t, c.index, h.MessageIndexes)
			require.Equal(t, "payload", string(payload))
		})
	}
}

func TestGUIDString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "123e4567-e89b-12d3-a456-426614174000", guid.String())
	require.Equal(t, "00000000-0000-0000-0000-000000000000", wire.GUID{}.String())
}

func TestSourceString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "prefix", wire.Prefix.String())
	require.Equal(t, "header", wire.RecordHeader.String())
	require.Equal(t, "none", wire.Source(0).String())
}

func BenchmarkParse(b *testing.B) {
	value := append([]byte{0, 0, 0, 1, 0x2c}, make([]byte, 300)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok, err := wire.Parse(value, nil, wire.Options{}); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
