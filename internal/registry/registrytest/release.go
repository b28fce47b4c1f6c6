package registrytest

import (
	"context"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// CheckEarlierRelease checks s, a store just opened on a database an
// earlier release made (each driver's testdata/earlier_release.sql: one
// JSON schema registered as version 1 of user_event): its rows read back
// as that release wrote them, and the store goes on working.
func CheckEarlierRelease(t *testing.T, s registry.Store) {
	t.Helper()
	ctx := context.Background()
	want := registry.Schema{
		ID: 1, Format: schema.FormatJSON, Text: `{"type":"object","required":["user_id"]}`,
		Fingerprint: "e13b35ae95a8e7d86950e9f77f674818bfa101b75f1c59181057adf48b4e8e08",
		GUID:        "97af217c-3033-8f80-9915-69c66228afab",
	}
	got, err := s.Schema(ctx, 1)
	must(t, err)
	equal(t, "Schema(1)", got, want)
	vs, err := s.Versions(ctx, registry.VersionFilter{Subject: "user_event"})
	must(t, err)
	equal(t, "Versions", vs, []registry.Version{{Subject: "user_event", Version: 1, SchemaID: 1, State: registry.StateRegistered}})

	next, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatAvro, Text: `"string"`, Fingerprint: "fp", GUID: "g"})
	must(t, err)
	if next.ID != 2 {
		t.Fatalf("a new schema's id = %d, want 2", next.ID)
	}
	must(t, s.InsertVersion(ctx, registry.Version{Subject: "user_event", Version: 2, SchemaID: 2, State: registry.StateRegistered}))
}
