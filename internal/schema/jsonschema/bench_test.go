package jsonschema

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// go test -run '^$' -bench . -benchmem ./internal/schema/jsonschema/

func BenchmarkDecode(b *testing.B) {
	payload := []byte(benchEvent)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, bad, ok := Decode(payload, Limits{}); !ok {
			b.Fatal(bad)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	s := mustCompile(b, eventSchema)
	v, bad, ok := Decode([]byte(benchEvent), Limits{})
	require.True(b, ok, bad.Message)
	var dst []record.Violation
	b.ReportAllocs()
	for b.Loop() {
		if dst = s.Validate(v, dst[:0]); len(dst) != 0 {
			b.Fatal(dst)
		}
	}
}

// BenchmarkValidateLibrary is Validate without the fast path: what every
// valid record would cost if the library validated it (fastpath.go).
func BenchmarkValidateLibrary(b *testing.B) {
	s := mustCompile(b, eventSchema)
	v, bad, ok := Decode([]byte(benchEvent), Limits{})
	require.True(b, ok, bad.Message)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.sch.Validate(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckValid(b *testing.B) {
	s := mustCompile(b, eventSchema)
	payload := []byte(benchEvent)
	var dst []record.Violation
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, dst = s.Check(payload, Limits{}, dst[:0]); len(dst) != 0 {
			b.Fatal(dst)
		}
	}
}

func BenchmarkCheckInvalid(b *testing.B) {
	s := mustCompile(b, eventSchema)
	payload := []byte(benchEventInvalid)
	var dst []record.Violation
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, dst = s.Check(payload, Limits{}, dst[:0]); len(dst) != 4 {
			b.Fatal(dst)
		}
	}
}

func BenchmarkCheckParseError(b *testing.B) {
	s := mustCompile(b, eventSchema)
	payload := []byte(benchEvent[:len(benchEvent)-1])
	var dst []record.Violation
	b.ReportAllocs()
	for b.Loop() {
		if _, dst = s.Check(payload, Limits{}, dst[:0]); len(dst) != 1 {
			b.Fatal(dst)
		}
	}
}

// BenchmarkDecodeAlternatives compares the hand-written decoder with the
// generic ones it replaced, each producing the validator's value shapes
// (json.Number numbers) except json-v2-any, which gives float64 and is only
// a reference point. None of the alternatives checks depth limits; only
// jsontext rejects duplicate keys and invalid UTF-8 as Decode does.
func BenchmarkDecodeAlternatives(b *testing.B) {
	payload := []byte(benchEvent)
	want, _, _ := Decode(payload, Limits{})
	decoders := []struct {
		name   string
		decode func([]byte) (any, error)
	}{
		{"handwritten", func(p []byte) (any, error) {
			v, bad, ok := Decode(p, Limits{})
			if !ok {
				return nil, errors.New(bad.Message)
			}
			return v, nil
		}},
		{"encoding-json-UseNumber", func(p []byte) (any, error) {
			d := stdjson.NewDecoder(bytes.NewReader(p))
			d.UseNumber()
			var v any
			err := d.Decode(&v)
			return v, err
		}},
		{"jsontext-tokens", decodeJSONText},
		{"json-v2-any", func(p []byte) (any, error) {
			var v any
			err := jsonv2.Unmarshal(p, &v)
			return v, err
		}},
	}
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			v, err := d.decode(payload)
			require.NoError(b, err)
			if d.name != "json-v2-any" {
				require.Equal(b, want, v)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := d.decode(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// decodeJSONText builds the validator's value shapes from jsontext tokens.
func decodeJSONText(p []byte) (any, error) {
	d := jsontext.NewDecoder(bytes.NewBuffer(p))
	return readJSONText(d)
}

func readJSONText(d *jsontext.Decoder) (any, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '{':
		m := map[string]any{}
		for d.PeekKind() != '}' {
			k, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			key := k.String() // before the next read voids k
			v, err := readJSONText(d)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
		_, err := d.ReadToken()
		return m, err
	case '[':
		a := []any{}
		for d.PeekKind() != ']' {
			v, err := readJSONText(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := d.ReadToken()
		return a, err
	case '"':
		return tok.String(), nil
	case '0':
		return stdjson.Number(tok.String()), nil
	case 't', 'f':
		return tok.Bool(), nil
	default:
		return nil, nil
	}
}
