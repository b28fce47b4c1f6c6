package registry_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// A GUID is a version 8 UUID derived from the schema's type, text and rule
// set: the
// same schema has the same GUID, another type or text another one, and
// SchemaByGUID finds the registered schema in any case.
func TestGUID(t *testing.T) {
	g := registry.GUID(schema.FormatJSON, jsonA, "", "")
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), g)
	require.Equal(t, g, registry.GUID(schema.FormatJSON, jsonA, "", ""))
	require.NotEqual(t, g, registry.GUID(schema.FormatAvro, jsonA, "", ""))
	require.NotEqual(t, g, registry.GUID(schema.FormatJSON, jsonB, "", ""))
	require.NotEqual(t, g, registry.GUID(schema.FormatJSON, jsonA, `{"domainRules":[{"name":"r"}]}`, ""), "the same text with rules is another schema id")

	ctx := context.Background()
	r := newRegistry(t)
	a := reg(t, r, "a", schema.FormatJSON, jsonA)
	reg(t, r, "b", schema.FormatJSON, jsonB)
	s, err := r.SchemaByGUID(ctx, g)
	require.NoError(t, err)
	require.Equal(t, a.SchemaID, s.ID)
	require.Equal(t, jsonA, s.Text)
	_, err = r.SchemaByGUID(ctx, registry.GUID(schema.FormatAvro, jsonA, "", ""))
	require.ErrorIs(t, err, registry.ErrSchemaNotFound)
}
