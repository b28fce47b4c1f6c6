package compat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat/jsoncompat"
)

// schema.FormatAvro is Confluent's schemaType for Avro.

// FuzzCheckJSON compares two arbitrary documents as JSON Schemas. It must
// never panic, fail only when a document does not parse, and find any
// schema compatible with itself in every direction.
func FuzzCheckJSON(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"type":"string","maxLength":3}`, `{"type":"string"}`},
		{`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false}`, `{"type":"object","properties":{"a":{"type":"number"}}}`},
		{`{"oneOf":[{"type":"string"},{"type":"null"}]}`, `{"anyOf":[{"type":"string"}]}`},
		{`{"definitions":{"n":{"type":"array","items":{"$ref":"#/definitions/n"}}},"$ref":"#/definitions/n"}`, `{"$ref":"#"}`},
		{`{"$schema":"https://json-schema.org/draft/2020-12/schema","prefixItems":[true],"items":false,"unevaluatedProperties":{"enum":[1,"a"]}}`, `true`},
		{`{"type":["string","null"],"pattern":"^a","not":{"const":"ab"}}`, `false`},
		{`{"dependencies":{"a":["b"],"c":{"minProperties":2}},"patternProperties":{"^x":{"multipleOf":0.5}}}`, `{}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	addConformanceSeeds(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		_, errA := jsoncompat.Parse(a)
		_, errB := jsoncompat.Parse(b)
		res, err := Check(schema.FormatJSON, Full, a, [][]byte{b})
		switch {
		case err != nil && errA == nil && errB == nil:
			t.Fatalf("Check failed on two parsable schemas: %v", err)
		case err == nil && (errA != nil || errB != nil):
			t.Fatalf("Check accepted an unparsable schema (%v, %v)", errA, errB)
		case err == nil:
			// Compatible means no breaking change, and the reverse.
			if res.Compatible != (len(res.Breaking()) == 0) {
				t.Fatalf("Compatible=%v with %d breaking changes", res.Compatible, len(res.Breaking()))
			}
		}
		if errA != nil {
			return
		}
		self, err := Check(schema.FormatJSON, FullTransitive, a, [][]byte{a, a})
		if err != nil {
			t.Fatalf("Check(x, x): %v", err)
		}
		if !self.Compatible {
			t.Fatalf("a schema is incompatible with itself: %+v", self.Breaking())
		}
	})
}

// addConformanceSeeds seeds the fuzzer with Confluent's cases when the
// shared conformance directory is there; they are read, not copied.
func addConformanceSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "..", "shared", "conformance", "jsonschema-compat", "*.json"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var cases []struct {
			Original json.RawMessage `json:"original_schema"`
			Update   json.RawMessage `json:"update_schema"`
		}
		if json.Unmarshal(raw, &cases) != nil {
			continue
		}
		for _, c := range cases {
			f.Add([]byte(c.Original), []byte(c.Update))
		}
	}
}

// FuzzCheckAvro is FuzzCheckJSON for Avro schemas: no panics, errors only
// for unparsable schemas, every schema compatible with itself.
func FuzzCheckAvro(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`, `{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":"string","default":""}]}`},
		{`{"type":"record","name":"N","fields":[{"name":"next","type":["null","N"],"default":null}]}`, `["null","string"]`},
		{`{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}`, `{"type":"enum","name":"E","symbols":["A"]}`},
		{`{"type":"array","items":{"type":"fixed","name":"F","size":4}}`, `{"type":"map","values":"bytes"}`},
		{`{"type":"record","name":"a.R","aliases":["Old"],"fields":[{"name":"x","aliases":["y"],"type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}}]}`, `"int"`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		errA := Validate(schema.FormatAvro, a)
		errB := Validate(schema.FormatAvro, b)
		_, err := Check(schema.FormatAvro, Full, a, [][]byte{b})
		if (err != nil) != (errA != nil || errB != nil) {
			t.Fatalf("Check: %v; parsing: %v, %v", err, errA, errB)
		}
		if errA != nil {
			return
		}
		self, err := Check(schema.FormatAvro, Full, a, [][]byte{a})
		if err != nil || !self.Compatible {
			t.Fatalf("a schema is not compatible with itself: %v %+v", err, self.Breaking())
		}
	})
}
