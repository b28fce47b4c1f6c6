package jsonschema

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// userEventSchema is the schema of the design notes
// (shared/seed/dataquarantine-interview-guide.md, Q4).
const userEventSchema = `{
  "type": "object",
  "properties": {
    "user_id": { "type": "string", "pattern": "^USER[0-9]{6}$" },
    "event_type": { "type": "string", "enum": ["view", "click", "purchase"] },
    "timestamp": { "type": "string", "format": "date-time" }
  },
  "required": ["user_id", "event_type", "timestamp"]
}`

const validUserEvent = `{"user_id":"USER123456","event_type":"click","timestamp":"2026-11-02T10:15:30Z"}`

// eventSchema is a realistic production schema for the benchmarks: the
// user_event fields plus the session, page, amount and metadata a tracking
// event carries.
const eventSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "user_id": { "type": "string", "pattern": "^USER[0-9]{6}$" },
    "event_type": { "type": "string", "enum": ["view", "click", "purchase"] },
    "timestamp": { "type": "string", "format": "date-time" },
    "session_id": { "type": "string", "format": "uuid" },
    "page": { "type": "string", "maxLength": 2048 },
    "amount": { "type": "number", "minimum": 0 },
    "currency": { "type": "string", "enum": ["EUR", "USD", "GBP"] },
    "metadata": {
      "type": "object",
      "properties": {
        "browser": { "type": "string" },
        "os": { "type": "string" },
        "ip": { "type": "string", "format": "ipv4" },
        "referrer": { "type": ["string", "null"] }
      },
      "additionalProperties": false
    }
  },
  "required": ["user_id", "event_type", "timestamp"],
  "additionalProperties": false
}`

// benchEvent is a ~300-byte event valid against eventSchema.
const benchEvent = `{"user_id":"USER482913","event_type":"purchase","timestamp":"2026-11-02T10:15:30.123Z",` +
	`"session_id":"3f2b8c1e-9a4d-4e6f-b2c7-8d1e5f9a0b3c","page":"/checkout/confirm",` +
	`"amount":129.95,"currency":"EUR","metadata":{"browser":"Firefox 131.0","os":"Linux x86_64",` +
	`"ip":"203.0.113.42","referrer":null}}`

// benchEventInvalid breaks eventSchema in four places.
const benchEventInvalid = `{"user_id":"user482913","event_type":"refund","timestamp":"2026-11-02 10:15:30",` +
	`"session_id":"3f2b8c1e-9a4d-4e6f-b2c7-8d1e5f9a0b3c","page":"/checkout/confirm",` +
	`"amount":-129.95,"currency":"EUR","metadata":{"browser":"Firefox 131.0","os":"Linux x86_64",` +
	`"ip":"203.0.113.42","referrer":null}}`

func mustCompile(t testing.TB, src string) *Schema {
	t.Helper()
	s, err := Compile(t.Name(), []byte(src))
	require.NoError(t, err)
	return s
}

// tfk is the part of a violation the tests pin exactly.
type tfk struct {
	Type    record.ErrorType
	Field   string
	Keyword string
}

func project(vs []record.Violation) []tfk {
	out := make([]tfk, len(vs))
	for i, v := range vs {
		out[i] = tfk{v.Type, v.Field, v.Keyword}
	}
	return out
}
