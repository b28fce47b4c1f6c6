package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Normal returns the normal form of a JSON Schema (or any JSON document):
// compact, with every object's keys sorted, numbers written as they were.
// It is Confluent Schema Registry's normalized JSON Schema form (keys
// ordered), under which documents that differ only in key order or layout
// are one schema.
func Normal(src []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return "", fmt.Errorf("not JSON: data after the document")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // maps are written with sorted keys
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("writing the normal form: %w", err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}
