package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// TestRegisterRefusesReferenceCycles: a JSON Schema that could never finish
// validating a record is refused at registration, naming its cycle;
// recursion through properties is registered.
func TestRegisterRefusesReferenceCycles(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	ctx := context.Background()
	_, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: `{"$ref": "#"}`})
	if !errors.Is(err, registry.ErrInvalidSchema) || !errors.Is(err, jsonschema.ErrRefCycle) || !strings.Contains(err.Error(), "# -($ref)-> #") {
		t.Fatalf("err = %v, want ErrInvalidSchema naming the cycle", err)
	}
	tree := `{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}`
	if _, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: tree}); err != nil {
		t.Fatalf("a recursive tree: %v", err)
	}
}
