package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// TestRegisterRefusesReferenceCycles: a JSON Schema that could never finish
// validating a record is refused at registration, naming its cycle, and so
// is one that would take minutes per record; recursion through properties
// is registered.
func TestRegisterRefusesReferenceCycles(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	ctx := context.Background()
	_, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: `{"$ref": "#"}`})
	if !errors.Is(err, registry.ErrInvalidSchema) || !errors.Is(err, jsonschema.ErrRefCycle) || !strings.Contains(err.Error(), "# -($ref)-> #") {
		t.Fatalf("err = %v, want ErrInvalidSchema naming the cycle", err)
	}
	// No cycle, but each of 30 levels applies the one below twice: a
	// billion schemas per value.
	var b strings.Builder
	b.WriteString(`{"$defs": {"a0": {"type": "string"}`)
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, `, "a%d": {"allOf": [{"$ref": "#/$defs/a%d"}, {"$ref": "#/$defs/a%d"}]}`, i, i-1, i-1)
	}
	b.WriteString(`}, "$ref": "#/$defs/a30"}`)
	_, err = r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: b.String()})
	if !errors.Is(err, registry.ErrInvalidSchema) || !errors.Is(err, jsonschema.ErrTooExpensive) {
		t.Fatalf("err = %v, want ErrInvalidSchema for an exponential schema", err)
	}
	tree := `{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}`
	if _, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: tree}); err != nil {
		t.Fatalf("a recursive tree: %v", err)
	}
}
