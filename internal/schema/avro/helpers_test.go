package avro_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/schema/avro"
)

// userEventV2 is the Avro form of the design notes' user_event, with a
// nested record so that paths have depth. v1 (userEventV1) lacks the
// optional "coupon" and has amount as a float, which v2 widened to double.
const userEventV2 = `{
  "type": "record", "name": "UserEvent", "namespace": "com.example",
  "fields": [
    {"name": "user_id", "type": "string"},
    {"name": "event_type", "type": {"type": "enum", "name": "EventType", "symbols": ["view", "click", "purchase"]}},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "session_id", "type": "string"},
    {"name": "page", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
      {"name": "city", "type": "string"},
      {"name": "zip", "type": "string"}
    ]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "metadata", "type": {"type": "map", "values": "string"}},
    {"name": "coupon", "type": ["null", "string"], "default": null}
  ]
}`

const userEventV1 = `{
  "type": "record", "name": "UserEvent", "namespace": "com.example",
  "fields": [
    {"name": "user_id", "type": "string"},
    {"name": "event_type", "type": {"type": "enum", "name": "EventType", "symbols": ["view", "click", "purchase"]}},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "session_id", "type": "string"},
    {"name": "page", "type": "string"},
    {"name": "amount", "type": "float"},
    {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
      {"name": "city", "type": "string"},
      {"name": "zip", "type": "string"}
    ]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "metadata", "type": {"type": "map", "values": "string"}}
  ]
}`

// Address and UserEvent are what a Go producer would encode.
type Address struct {
	City string `avro:"city"`
	Zip  string `avro:"zip"`
}

type UserEvent struct {
	UserID    string            `avro:"user_id"`
	EventType string            `avro:"event_type"`
	Timestamp time.Time         `avro:"timestamp"`
	SessionID string            `avro:"session_id"`
	Page      string            `avro:"page"`
	Amount    float64           `avro:"amount"`
	Address   Address           `avro:"address"`
	Tags      []string          `avro:"tags"`
	Metadata  map[string]string `avro:"metadata"`
	Coupon    *string           `avro:"coupon"`
}

// UserEventV1 is the same event as an older producer wrote it.
type UserEventV1 struct {
	UserID    string            `avro:"user_id"`
	EventType string            `avro:"event_type"`
	Timestamp time.Time         `avro:"timestamp"`
	SessionID string            `avro:"session_id"`
	Page      string            `avro:"page"`
	Amount    float32           `avro:"amount"`
	Address   Address           `avro:"address"`
	Tags      []string          `avro:"tags"`
	Metadata  map[string]string `avro:"metadata"`
}

var eventTime = time.Date(2026, 1, 10, 19, 50, 0, 0, time.UTC)

func sampleEvent() UserEvent {
	coupon := "C-AB12CD34"
	return UserEvent{
		UserID: "USER123456", EventType: "purchase", Timestamp: eventTime,
		SessionID: "5f0c2a8e-9a51-4c34-b8b7-3f8f6a4f1d2e", Page: "/products/espresso-machine-deluxe",
		Amount:  249.99,
		Address: Address{City: "Paris", Zip: "75001"},
		Tags:    []string{"winter-sale", "newsletter", "returning-customer"},
		Metadata: map[string]string{
			"browser": "firefox", "os": "linux", "campaign": "winter-sale", "ab": "B", "ref": "newsletter",
			"referrer": "https://news.example.com/winter-deals", "locale": "fr-FR",
		},
		Coupon: &coupon,
	}
}

// sampleDecoded is sampleEvent as Check returns it.
func sampleDecoded() map[string]any {
	return map[string]any{
		"user_id": "USER123456", "event_type": "purchase", "timestamp": eventTime,
		"session_id": "5f0c2a8e-9a51-4c34-b8b7-3f8f6a4f1d2e", "page": "/products/espresso-machine-deluxe",
		"amount":  249.99,
		"address": map[string]any{"city": "Paris", "zip": "75001"},
		"tags":    []any{"winter-sale", "newsletter", "returning-customer"},
		"metadata": map[string]any{
			"browser": "firefox", "os": "linux", "campaign": "winter-sale", "ab": "B", "ref": "newsletter",
			"referrer": "https://news.example.com/winter-deals", "locale": "fr-FR",
		},
		"coupon": "C-AB12CD34",
	}
}

func parse(t testing.TB, src string, opts avro.Options) *avro.Validator {
	t.Helper()
	v, err := avro.Parse([]byte(src), opts)
	require.NoError(t, err)
	return v
}

func encode(t testing.TB, v *avro.Validator, datum any) []byte {
	t.Helper()
	b, err := v.Schema().Encode(datum)
	require.NoError(t, err)
	return b
}
