package jsonschema_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

func TestNormal(t *testing.T) {
	t.Parallel()
	a, err := jsonschema.Normal([]byte(`{"type":"object","properties":{"b":{"type":"string","maxLength":3},"a":{"minimum":1.50}},"required":["b","a"]}`))
	require.NoError(t, err)
	b, err := jsonschema.Normal([]byte(" {\"required\": [\"b\",\"a\"],\n \"properties\": {\"a\": {\"minimum\": 1.50}, \"b\": {\"maxLength\": 3, \"type\": \"string\"}}, \"type\": \"object\"}"))
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Equal(t, `{"properties":{"a":{"minimum":1.50},"b":{"maxLength":3,"type":"string"}},"required":["b","a"],"type":"object"}`, a)
	c, err := jsonschema.Normal([]byte(`{"type":"object","required":["a","b"]}`))
	require.NoError(t, err)
	require.NotEqual(t, `{"required":["b","a"],"type":"object"}`, c, "array order is kept")
	for _, bad := range []string{``, `{`, `{} {}`, `{"a":}`} {
		_, err := jsonschema.Normal([]byte(bad))
		require.Error(t, err, bad)
	}
}
