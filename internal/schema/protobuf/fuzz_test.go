package protobuf_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// decodeTypes are the error types the decode and schema layers may report.
var decodeTypes = map[record.ErrorType]bool{
	record.DecodeError: true, record.MissingField: true, record.PatternMismatch: true,
	record.EnumViolation: true, record.ConstViolation: true, record.RangeViolation: true,
	record.LengthViolation: true, record.FormatViolation: true, record.RuleViolation: true,
	record.SchemaViolation: true,
}

// FuzzProtobufCheck feeds arbitrary bytes to the decode path of the Order
// schema (with constraints) and of the proto2 schema: never a panic; either
// a decoded value and no violation, or no value and violations of known
// types with JSON-pointer fields, a decode failure being exactly one
// DECODE_ERROR; and what decodes re-encodes and decodes again.
func FuzzProtobufCheck(f *testing.F) {
	order := parse(f, orderProto, protobuf.Options{MaxDepth: 8})
	legacy := parse(f, legacyProto, protobuf.Options{})
	good := encode(f, order.Default(), sampleOrder)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(append(append([]byte(nil), good...), 0))
	f.Add([]byte{0x0a, 0x02, 0xff, 0xfe})
	f.Add([]byte{0x22, 0x03, 0x12, 0x05, 'x'})
	f.Add([]byte{0x32, 0x00, 0x32, 0x02, 0x0a, 0x07})
	f.Add([]byte{0x0b, 0x0c})
	f.Add(encode(f, legacy.Default(), `{"id": "e", "parts": [{}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, v := range []*protobuf.Validator{order, legacy} {
			decoded, got := v.Check(payload, nil)
			if decoded != nil {
				if len(got) != 0 {
					t.Fatalf("value and violations %+v", got)
				}
				continue
			}
			if len(got) == 0 {
				t.Fatal("no value and no violation")
			}
			for _, g := range got {
				if !decodeTypes[g.Type] || g.Message == "" || g.Field != "" && !strings.HasPrefix(g.Field, "/") {
					t.Fatalf("bad violation %+v", g)
				}
				if g.Type == record.DecodeError && len(got) != 1 {
					t.Fatalf("a decode error among others: %+v", got)
				}
			}
			if got[0].Type != record.DecodeError {
				// It decoded: it must re-encode to what decodes alike.
				msg := dynamicpb.NewMessage(v.Default())
				if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(payload, msg); err != nil {
					t.Fatalf("reported %+v but the payload does not decode: %v", got, err)
				}
				b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(msg)
				if err != nil {
					t.Fatal(err)
				}
				if _, again := v.Check(b, nil); len(again) != len(got) {
					t.Fatalf("re-encoded: %+v, first: %+v", again, got)
				}
			}
		}
	})
}

// FuzzProtobufParse feeds arbitrary .proto text to the compiler, as the
// registry API receives it: never a panic; a schema either compiles, with
// a default message, or is refused with a message.
func FuzzProtobufParse(f *testing.F) {
	f.Add(orderProto)
	f.Add(legacyProto)
	f.Add(plainOrderProto)
	f.Add(`syntax = "proto3"; message M { string a = 1 }`)
	f.Add(`edition = "2023"; message M { string a = 1; }`)
	f.Add(`syntax = "proto3"; import "buf/validate/validate.proto"; message M { string a = 1 [(buf.validate.field).string.pattern = "("]; }`)
	f.Fuzz(func(t *testing.T, src string) {
		v, err := protobuf.Parse([]byte(src), protobuf.Options{})
		switch {
		case err != nil && err.Error() == "":
			t.Fatal("an empty error")
		case err == nil && v.Default() == nil:
			t.Fatal("compiled without a default message")
		case err == nil:
			_, _ = v.Check([]byte{0x0a, 0x01, 'x'}, nil)
		}
	})
}

// FuzzSource feeds arbitrary schema sources (.proto text, base64
// descriptors, mutations of both) to Source: never a panic; what it accepts
// compiles, has a normal form, and gives the same text when read again.
func FuzzSource(f *testing.F) {
	f.Add(orderProto)
	ser, err := protobuf.Serialized(orderProto)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(base64.StdEncoding.EncodeToString(ser))
	f.Add(base64.StdEncoding.EncodeToString(ser[:len(ser)/2]))
	f.Add(`syntax = "proto2"; message M { required string a = 1; }`)
	f.Add("CP8=")
	f.Fuzz(func(t *testing.T, src string) {
		text, err := protobuf.Source(src)
		if err != nil {
			return
		}
		if _, err := protobuf.Normal(text); err != nil {
			t.Fatalf("Source accepted %q but its text %q has no normal form: %v", src, text, err)
		}
		again, err := protobuf.Source(text)
		if err != nil || again != text {
			t.Fatalf("Source(Source(x)) = %q, %v; want %q", again, err, text)
		}
	})
}
