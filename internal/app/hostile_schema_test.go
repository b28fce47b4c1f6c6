package app_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

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
	_, err = app.CompileSchemas(&cfg)
	require.ErrorContains(t, err, "reference cycle", "the engine refuses it too, should Validate be skipped")
}
