package wire_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/wire"
)

// FuzzParse: Parse never panics, and whatever it returns is consistent: an
// error wraps ErrMalformed; no header means the value is the payload; a
// prefix leaves a suffix of the value as the payload; a header leaves the
// whole value.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x2c, 2, 'a'}, []byte(nil), false, false)
	f.Add([]byte{0, 0, 0, 1, 0x2c, 4, 2, 0x80, 0x01, 'x'}, []byte(nil), false, true)
	f.Add(append([]byte{1}, make([]byte, 16)...), []byte(nil), false, false)
	f.Add([]byte(`{"a":1}`), []byte{0, 0, 0, 0, 7}, true, false)
	f.Add([]byte(`{"a":1}`), append([]byte{1}, make([]byte, 17)...), true, true)
	f.Add([]byte{0, 1}, []byte(nil), false, true)
	f.Add([]byte{0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, []byte(nil), false, true)
	f.Fuzz(func(t *testing.T, value, header []byte, useHeader, protobuf bool) {
		var headers []record.Header
		if useHeader {
			headers = []record.Header{{Key: wire.ValueSchemaIDHeader, Value: header}}
		}
		h, payload, ok, err := wire.Parse(value, headers, wire.Options{Protobuf: protobuf})
		switch {
		case err != nil:
			if ok || payload != nil || !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("error %v with ok=%v payload=%q", err, ok, payload)
			}
		case !ok:
			if useHeader || !bytes.Equal(payload, value) || len(value) > 0 && value[0] <= 1 {
				t.Fatalf("no header found in %x (header %v)", value, useHeader)
			}
		case h.Source == wire.RecordHeader:
			if !useHeader || !bytes.Equal(payload, value) {
				t.Fatalf("header id but payload %x of %x", payload, value)
			}
		case h.Source == wire.Prefix:
			min := 5
			if h.Magic == wire.MagicGUID {
				min = 17
			}
			if useHeader || len(value)-len(payload) < min || !bytes.HasSuffix(value, payload) {
				t.Fatalf("prefix %+v leaves %x of %x", h, payload, value)
			}
		default:
			t.Fatalf("ok without a source: %+v", h)
		}
		if ok && protobuf && len(h.MessageIndexes) == 0 {
			t.Fatalf("Protobuf header without message indexes: %+v", h)
		}
		for _, i := range h.MessageIndexes {
			if i < 0 {
				t.Fatalf("negative index in %+v", h)
			}
		}
	})
}
