package avro_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/schema/avro"
)

// Key order, name qualification, layout and a default order attribute do
// not change the normal form; what makes another schema does.
func TestNormal(t *testing.T) {
	t.Parallel()
	base := `{"type":"record","name":"User","namespace":"com.ex","doc":"a user","fields":[
		{"name":"id","type":"long","doc":"the id"},
		{"name":"tags","type":{"type":"array","items":"string"},"default":[]},
		{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"],"default":"A"}},
		{"name":"k2","type":"Kind","order":"ascending"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"raw","type":"bytes","default":"\u00ff\u0001"},
		{"name":"n","type":["null","string"],"default":null,"x-owner":"team"}]}`
	same := []string{
		// keys in another order, names qualified differently, other layout
		`{"fields":[{"type":"long","name":"id","doc":"the id"},{"default":[],"name":"tags","type":{"items":"string","type":"array"}},
		  {"name":"kind","type":{"default":"A","symbols":["A","B"],"name":"com.ex.Kind","type":"enum"}},
		  {"name":"k2","type":"com.ex.Kind"},{"name":"ts","type":{"logicalType":"timestamp-millis","type":"long"}},
		  {"name":"amount","type":{"scale":2,"precision":9,"logicalType":"decimal","type":"bytes"}},
		  {"default":"\u00ff\u0001","type":"bytes","name":"raw"},
		  {"x-owner":"team","type":["null","string"],"name":"n","default":null}],
		 "doc":"a user","name":"com.ex.User","type":"record"}`,
	}
	other := []string{
		// fields in another order
		`{"type":"record","name":"User","namespace":"com.ex","doc":"a user","fields":[
		{"name":"tags","type":{"type":"array","items":"string"},"default":[]},
		{"name":"id","type":"long","doc":"the id"},
		{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"],"default":"A"}},
		{"name":"k2","type":"Kind"},{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"raw","type":"bytes","default":"\u00ff\u0001"},
		{"name":"n","type":["null","string"],"default":null,"x-owner":"team"}]}`,
		// another namespace
		`{"type":"record","name":"User","namespace":"com.other","doc":"a user","fields":[
		{"name":"id","type":"long","doc":"the id"},
		{"name":"tags","type":{"type":"array","items":"string"},"default":[]},
		{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"],"default":"A"}},
		{"name":"k2","type":"Kind"},{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"raw","type":"bytes","default":"\u00ff\u0001"},
		{"name":"n","type":["null","string"],"default":null,"x-owner":"team"}]}`,
	}
	want, err := avro.Normal([]byte(base))
	require.NoError(t, err)
	require.NotContains(t, want, "namespace")
	require.Contains(t, want, `{"name":"com.ex.User","type":"record","fields":[{"name":"id","type":"long","doc":"the id"}`)
	for _, s := range same {
		got, err := avro.Normal([]byte(s))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	for _, s := range other {
		got, err := avro.Normal([]byte(s))
		require.NoError(t, err)
		require.NotEqual(t, want, got)
	}
	again, err := avro.Normal([]byte(want))
	require.NoError(t, err)
	require.Equal(t, want, again, "the normal form is its own normal form")

	for _, s := range []string{`"string"`, `{"type":"string"}`, ` "string" `} {
		got, err := avro.Normal([]byte(s))
		require.NoError(t, err)
		require.Equal(t, `"string"`, got)
	}
	_, err = avro.Normal([]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}`))
	require.Error(t, err)
}
