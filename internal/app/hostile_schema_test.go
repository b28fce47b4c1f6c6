package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

// TestRegistryRefusesCyclicSchemas: through the real gateway's Confluent
// API, a JSON Schema with a reference cycle is 422 / 42201 naming the
// cycle, and a recursive one through properties is registered.
func TestRegistryRefusesCyclicSchemas(t *testing.T) {
	gw := start(t, t.TempDir())
	body := func(schema string) string {
		b, err := json.Marshal(map[string]string{"schema": schema, "schemaType": "JSON"})
		require.NoError(t, err)
		return string(b)
	}
	var refused struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
	code, answer := send(t, http.MethodPost, gw.base+"/registry/subjects/loop/versions", "",
		body(`{"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}`), nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, answer)
	require.NoError(t, json.Unmarshal([]byte(answer), &refused))
	require.Equal(t, 42201, refused.ErrorCode)
	require.Contains(t, refused.Message, "reference cycle #/$defs/a -(allOf/0)-> #/$defs/a/allOf/0 -($ref)-> #/$defs/b -($ref)-> #/$defs/a")

	code, answer = send(t, http.MethodPost, gw.base+"/registry/subjects/tree/versions", "",
		body(`{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}`), nil)
	require.Equal(t, http.StatusOK, code, answer)
}

// TestCyclicConfigSchemaRefused: a cyclic schema in the configuration is a
// configuration error naming its key, before anything starts.
func TestCyclicConfigSchemaRefused(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Schemas[0].Schema = `{"if": {"type": "object"}, "then": {"$ref": "#"}}`
	err := cfg.Validate()
	require.ErrorContains(t, err, `schemas[0].schema: compiling schema "user_event": invalid JSON schema: reference cycle # -(then)-> #/then -($ref)-> #`)
	cfg.Kafka.Embedded.Listen, cfg.HTTP.Listen = "127.0.0.1:0", "127.0.0.1:0"
	a, err := app.New(context.Background(), app.Options{Config: cfg})
	if a != nil {
		a.Close()
	}
	require.ErrorContains(t, err, "reference cycle", "the gateway refuses it too, should Validate be skipped")
}

// TestSchemaIDOutOfRange: a record naming schema id 0xFFFFFFFF in its wire
// header is SCHEMA_NOT_FOUND showing the id as sent, 4294967295, and costs
// no registry lookup.
func TestSchemaIDOutOfRange(t *testing.T) {
	gw := start(t, t.TempDir())
	value := append([]byte{0, 0xff, 0xff, 0xff, 0xff}, `{"user_id":"USER000001","event_type":"view","timestamp":"2026-11-03T10:00:00Z"}`...)
	produce(t, gw.app.KafkaAddr(), &kgo.Record{Key: []byte("k"), Value: value})
	dlq := consumeExactly(t, gw.app.KafkaAddr(), "quarantine-dlq", 1)
	require.Equal(t, "SCHEMA_NOT_FOUND", header(dlq[0], "dq.error.type"))
	require.Equal(t, "schema id 4294967295 is outside the ids a schema registry assigns (1 to 2147483647): no schema has it",
		header(dlq[0], "dq.error.message"))
	require.Zero(t, gw.metric(`schema_id_lookups_total{result="registry"}`))
}
