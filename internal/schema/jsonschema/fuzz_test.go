package jsonschema

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

var fuzzSeeds = []string{
	validUserEvent,
	benchEvent,
	benchEventInvalid,
	``,
	` `,
	`null`,
	`{}`,
	`[]`,
	`{"user_id": 123}`,
	`{"a": 1, "a": 2}`,
	`{"a": {"b": [1, 2, {"c": "d"}]}}`,
	`[1, 2,]`,
	`{"a": 1,}`,
	`{"a" 1}`,
	`"\ud83d\ude00\u00e9\n\t\"\\\/"`,
	`"\ud800"`,
	`"\udc00\ud800"`,
	"\"\xff\xfe\"",
	"\"\xed\xa0\x80\"",
	"\xef\xbb\xbf{}",
	`123456789012345678901234567890123456789e-400`,
	`-0.0e+00`,
	`1e1001`,
	`01`,
	`1.`,
	`-`,
	`tru`,
	`nul`,
	`{"x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"a~b/c": {"": [true, false, null]}}`,
	`{"user_id":"USER123456","event_type":"view","timestamp":"2026-02-30T10:15:30Z","extra":{"k":"v","k2":[1]}}`,
	`{} {}`,
	`{"a": "b"} x`,
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, bad, ok := Decode(data, Limits{})
		if !ok {
			if v != nil || bad.Type != record.ParseError || bad.Message == "" || bad.Keyword != "" ||
				(bad.Field != "" && bad.Field[0] != '/') {
				t.Fatalf("bad failure for %q: v=%v violation=%+v", data, v, bad)
			}
			return
		}
		if bad != (record.Violation{}) {
			t.Fatalf("ok with a violation: %+v", bad)
		}

		// encoding/json accepts everything Decode accepts (it is more
		// lenient) and must read the same value.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var std any
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("Decode accepted %q, encoding/json did not: %v", data, err)
		}
		if !jsonEqual(v, std) {
			t.Fatalf("Decode(%q) = %#v, encoding/json = %#v", data, v, std)
		}

		// The value survives a round trip.
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", v, err)
		}
		v2, bad, ok := Decode(enc, Limits{})
		if !ok {
			t.Fatalf("re-decoding %q: %+v", enc, bad)
		}
		if !jsonEqual(v, v2) {
			t.Fatalf("round trip of %q changed %#v to %#v", data, v, v2)
		}
	})
}

func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	s, err := Compile("user_event", []byte(userEventSchema))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, vs := s.Check(data, Limits{}, nil)
		for _, vi := range vs {
			if !vi.Type.Known() || vi.Message == "" || (vi.Field != "" && !strings.HasPrefix(vi.Field, "/")) {
				t.Fatalf("malformed violation for %q: %+v", data, vi)
			}
		}
		if v == nil && len(vs) > 0 && vs[0].Type == record.ParseError {
			if len(vs) != 1 {
				t.Fatalf("a parse error must be the only violation: %+v", vs)
			}
			return
		}
		// Deterministic: the library walks maps, the result must not.
		_, again := s.Check(data, Limits{}, nil)
		if len(again) != len(vs) {
			t.Fatalf("nondeterministic: %+v then %+v", vs, again)
		}
		for i := range vs {
			if vs[i] != again[i] {
				t.Fatalf("nondeterministic: %+v then %+v", vs, again)
			}
		}
	})
}

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !jsonEqual(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// FuzzFormats runs the format checks of formats.go on arbitrary strings.
// Where the library has a check for the same format, anything accepted here
// must be accepted there too: both follow the same RFC, and the library is
// the more lenient.
func FuzzFormats(f *testing.F) {
	for _, s := range []string{
		"2026-11-02T10:15:30Z", "2026-11-02T23:59:60+00:00", "2024-02-29", "10:15:30.5-01:30",
		"3f2b8c1e-9a4d-4e6f-b2c7-8d1e5f9a0b3c", "203.0.113.42", "P1Y2M3DT4H5M6S",
		"http://user@[::1]:80/p?q#f", "{+var,x:3}", "xn--ll-0ea.example", "\"a b\"@[IPv6:::1]",
		"xn--ngba5hb2804a", "xn--11b2ezcw70k", "xn--X", "", "-", "{", "%",
	} {
		f.Add(s)
	}
	lib := map[string]*jsv.Schema{}
	for _, name := range []string{"date-time", "date", "time", "uuid", "ipv4"} {
		c := jsv.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("urn:f", map[string]any{"format": name}); err != nil {
			f.Fatal(err)
		}
		sch, err := c.Compile("urn:f")
		if err != nil {
			f.Fatal(err)
		}
		lib[name] = sch
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fo := range formatOverrides {
			err := fo.Validate(s)
			if sch, ok := lib[fo.Name]; ok && err == nil && sch.Validate(s) != nil {
				t.Fatalf("%s: %q accepted here, rejected by the library: %v", fo.Name, s, sch.Validate(s))
			}
		}
	})
}
