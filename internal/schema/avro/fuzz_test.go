package avro_test

import (
	"strings"
	"testing"

	twmbavro "github.com/twmb/avro"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/avro"
)

// FuzzAvroCheck feeds arbitrary bytes to the binary and JSON decode paths
// of the user_event schema, and to resolution from v1: never a panic; either
// a decoded value and no violation, or no value and exactly one violation of
// a decode-layer type with a JSON-pointer field; and what decodes
// re-encodes.
func FuzzAvroCheck(f *testing.F) {
	v := parse(f, userEventV2, avro.Options{})
	writer := parse(f, userEventV1, avro.Options{})
	j := parse(f, userEventV2, avro.Options{Encoding: avro.JSON})
	good := encode(f, v, sampleEvent())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(append(append([]byte(nil), good...), 0))
	f.Add([]byte{0x7f, 'a'})
	f.Add([]byte{0x02, 'U', 0x08})
	f.Add([]byte(`{"user_id":"USER123456","event_type":"view","timestamp":1,"session_id":"s","page":"/",` +
		`"amount":1,"address":{"city":"c","zip":"z"},"tags":[],"metadata":{},"coupon":null}`))
	f.Add([]byte(`{"user_id":5}`))
	check := func(t *testing.T, path string, decoded any, got []record.Violation, types ...record.ErrorType) {
		t.Helper()
		if decoded != nil {
			if len(got) != 0 {
				t.Fatalf("%s: value and violations %+v", path, got)
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("%s: no value and %d violations", path, len(got))
		}
		ok := false
		for _, ty := range types {
			ok = ok || got[0].Type == ty
		}
		if !ok || got[0].Message == "" || got[0].Field != "" && !strings.HasPrefix(got[0].Field, "/") {
			t.Fatalf("%s: bad violation %+v", path, got[0])
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		decoded, got := v.Check(payload, nil)
		check(t, "binary", decoded, got, record.DecodeError)
		if decoded != nil {
			if _, err := v.Schema().Encode(decoded); err != nil {
				t.Fatalf("decoded value does not re-encode: %v", err)
			}
		}
		decoded, got = v.CheckWithWriter(writer, payload, nil)
		check(t, "resolved", decoded, got, record.DecodeError)
		decoded, got = j.Check(payload, nil)
		check(t, "json", decoded, got, record.ParseError, record.TypeMismatch, record.MissingField, record.EnumViolation)
	})
}

// FuzzNormal feeds arbitrary schema texts to Normal: never a panic; a
// normal form parses, is its own normal form, and is the same schema (one
// Parsing Canonical Form).
func FuzzNormal(f *testing.F) {
	f.Add(userEventV1)
	f.Add(userEventV2)
	f.Add(`{"type":"record","name":"a.R","fields":[{"name":"x","type":{"type":"fixed","name":"F","size":2},"default":"\u0000\u00ff"},{"name":"y","type":"a.F"}]}`)
	f.Add(`["null",{"type":"map","values":{"type":"double","x":1.5}}]`)
	f.Fuzz(func(t *testing.T, src string) {
		n, err := avro.Normal([]byte(src))
		if err != nil {
			return
		}
		again, err := avro.Normal([]byte(n))
		if err != nil || again != n {
			t.Fatalf("Normal(Normal(%q)) = %q, %v; want %q", src, again, err, n)
		}
		a, err1 := twmbavro.Parse(src)
		b, err2 := twmbavro.Parse(n)
		if err1 != nil || err2 != nil {
			t.Fatalf("parsing %q and its normal form %q: %v, %v", src, n, err1, err2)
		}
		if string(a.Canonical()) != string(b.Canonical()) {
			t.Fatalf("normal form %q of %q is another schema: %s vs %s", n, src, b.Canonical(), a.Canonical())
		}
	})
}
