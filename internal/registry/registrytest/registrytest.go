// Package registrytest is the conformance suite every registry.Store driver
// passes: Exercise runs the Store contract against a fresh store per
// subtest, as River's riverdrivertest does for its drivers.
package registrytest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// registrySuite holds Exercise's subtests, one method each.
type registrySuite struct {
	newStore func(t *testing.T) registry.Store
}

// open returns a fresh store, closed when the test ends.
func (x registrySuite) open(t *testing.T) registry.Store {
	t.Helper()
	s := x.newStore(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Exercise runs the suite. newStore returns an empty store, closed by the
// caller's cleanup or by Exercise's (Close is called and may be called
// again).
func Exercise(t *testing.T, newStore func(t *testing.T) registry.Store) {
	t.Helper()
	x := registrySuite{newStore: newStore}
	t.Run("SchemaIDs", x.schemaIDs)
	t.Run("RuleSetsAndMetadata", x.ruleSetsAndMetadata)
	t.Run("SchemaKeys", x.schemaKeys)
	t.Run("Versions", x.versions)
	t.Run("UpdateVersion", x.updateVersion)
	t.Run("DeleteVersion", x.deleteVersion)
	t.Run("Config", x.config)
	t.Run("Service", x.service)
}

func (x registrySuite) schemaIDs(t *testing.T) {
	ctx := context.Background()
	s := x.open(t)
	if got, err := s.SchemasByFingerprint(ctx, "fp-json"); err != nil || len(got) != 0 {
		t.Fatalf("SchemasByFingerprint on empty store: %v, %v; want none", got, err)
	}
	if _, err := s.Schema(ctx, 1); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Schema(1) on empty store: err = %v, want ErrNotFound", err)
	}
	a, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`, Fingerprint: "fp-json", GUID: "g-a"})
	must(t, err)
	b, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatAvro, Text: `"string"`, Fingerprint: "fp-avro", GUID: "g-b"})
	must(t, err)
	if a.ID <= 0 || b.ID <= a.ID {
		t.Fatalf("ids %d then %d: want positive and increasing", a.ID, b.ID)
	}
	if _, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`, Fingerprint: "fp-json", GUID: "g-other"}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("same text again: err = %v, want ErrConflict", err)
	}
	if _, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{"a":1}`, Fingerprint: "fp-x", GUID: "g-a"}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("same GUID again: err = %v, want ErrConflict", err)
	}
	got, err := s.SchemasByFingerprint(ctx, "fp-json")
	must(t, err)
	equal(t, "SchemasByFingerprint", got, []registry.Schema{a})
	got1, err := s.Schema(ctx, b.ID)
	must(t, err)
	equal(t, "Schema", got1, b)
	got1, err = s.SchemaByGUID(ctx, "g-b")
	must(t, err)
	equal(t, "SchemaByGUID", got1, b)
	if _, err := s.SchemaByGUID(ctx, "g-none"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unknown GUID: err = %v, want ErrNotFound", err)
	}
	// IMPORT mode: an explicit id is kept; a taken one conflicts.
	c, err := s.InsertSchema(ctx, registry.Schema{ID: 100, Format: schema.FormatJSON, Text: `{"type":"string"}`, Fingerprint: "fp-c", GUID: "g-c"})
	must(t, err)
	equal(t, "explicit id", c.ID, 100)
	if _, err := s.InsertSchema(ctx, registry.Schema{ID: 100, Format: schema.FormatJSON, Text: `{"type":"integer"}`, Fingerprint: "fp-d", GUID: "g-d"}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("taken id: err = %v, want ErrConflict", err)
	}
	d, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{"type":"number"}`, Fingerprint: "fp-e", GUID: "g-e"})
	must(t, err)
	if d.ID <= 100 {
		t.Fatalf("id after explicit 100 = %d, want > 100", d.ID)
	}
}

func (x registrySuite) ruleSetsAndMetadata(t *testing.T) {
	ctx := context.Background()
	// The same text with other rules or metadata is another schema,
	// with its own id; both are stored and read back as given, and
	// one fingerprint finds them all.
	s := x.open(t)
	const rs1 = `{"domainRules":[{"name":"a","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"true"}]}`
	const rs2 = `{"domainRules":[{"name":"b","kind":"CONDITION","mode":"READ","type":"CEL","expr":"false"}]}`
	const md = `{"properties":{"owner":"team"}}`
	var all []registry.Schema
	for i, sc := range []registry.Schema{{}, {RuleSet: rs1}, {RuleSet: rs2}, {Metadata: md}, {RuleSet: rs1, Metadata: md}} {
		sc.Format, sc.Text, sc.Fingerprint, sc.GUID = schema.FormatJSON, `{}`, "fp", fmt.Sprintf("g-%d", i)
		got, err := s.InsertSchema(ctx, sc)
		must(t, err)
		for _, prev := range all {
			if prev.ID == got.ID {
				t.Fatalf("schema %+v has the id of %+v: want distinct", got, prev)
			}
		}
		all = append(all, got)
		if _, err := s.InsertSchema(ctx, registry.Schema{Format: sc.Format, Text: sc.Text, RuleSet: sc.RuleSet, Metadata: sc.Metadata, Fingerprint: "fp", GUID: "g-again"}); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("same text, rules and metadata again: err = %v, want ErrConflict", err)
		}
	}
	for _, want := range all {
		got, err := s.Schema(ctx, want.ID)
		must(t, err)
		equal(t, "Schema with rules and metadata", got, want)
	}
	got, err := s.SchemasByFingerprint(ctx, "fp")
	must(t, err)
	equal(t, "one fingerprint", got, all)
}

func (x registrySuite) schemaKeys(t *testing.T) {
	ctx := context.Background()
	// Rows stored without keys (by an older gateway, which Migrate
	// completes) are listed until their keys are set.
	s := x.open(t)
	old1, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{"a":1}`})
	must(t, err)
	old2, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{"a":2}`})
	must(t, err)
	_, err = s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{"a":3}`, Fingerprint: "fp3", GUID: "g3"})
	must(t, err)
	missing, err := s.SchemasWithoutKeys(ctx, 1)
	must(t, err)
	equal(t, "first without keys", missing, []registry.Schema{old1})
	must(t, s.SetSchemaKeys(ctx, old1.ID, "fp1", "g1"))
	if err := s.SetSchemaKeys(ctx, old2.ID, "fp2", "g1"); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("a taken GUID: err = %v, want ErrConflict", err)
	}
	if err := s.SetSchemaKeys(ctx, 999, "fp", "g999"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a missing schema: err = %v, want ErrNotFound", err)
	}
	missing, err = s.SchemasWithoutKeys(ctx, 10)
	must(t, err)
	equal(t, "still without keys", missing, []registry.Schema{old2})
	must(t, s.SetSchemaKeys(ctx, old2.ID, "fp2", "g2"))
	missing, err = s.SchemasWithoutKeys(ctx, 10)
	must(t, err)
	equal(t, "none left", len(missing), 0)
	got, err := s.SchemaByGUID(ctx, "g1")
	must(t, err)
	old1.Fingerprint, old1.GUID = "fp1", "g1"
	equal(t, "by GUID after SetSchemaKeys", got, old1)
}

// seedVersions returns a fresh store holding two schemas, a and b, and
// three versions of them: orders 2 (b), orders 1 (a) and audit 1 (a).
func (x registrySuite) seedVersions(t *testing.T) (s registry.Store, a, b registry.Schema, rows []registry.Version) {
	t.Helper()
	ctx := context.Background()
	s = x.open(t)
	a, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`})
	must(t, err)
	b, err = s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{"type":"object"}`})
	must(t, err)
	rows = []registry.Version{
		{Subject: "orders", Version: 2, SchemaID: b.ID, State: registry.StateRegistered},
		{Subject: "orders", Version: 1, SchemaID: a.ID, Label: "1.0.0", State: registry.StateEnforced},
		{Subject: "audit", Version: 1, SchemaID: a.ID, State: registry.StateRegistered},
	}
	for _, v := range rows {
		must(t, s.InsertVersion(ctx, v))
	}
	return s, a, b, rows
}

func (x registrySuite) versions(t *testing.T) {
	ctx := context.Background()
	s, a, _, rows := x.seedVersions(t)
	if err := s.InsertVersion(ctx, rows[0]); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("duplicate version: err = %v, want ErrConflict", err)
	}
	all, err := s.Versions(ctx, registry.VersionFilter{})
	must(t, err)
	equal(t, "all versions", all, []registry.Version{rows[2], rows[1], rows[0]})
	orders, err := s.Versions(ctx, registry.VersionFilter{Subject: "orders"})
	must(t, err)
	equal(t, "orders", orders, []registry.Version{rows[1], rows[0]})
	byID, err := s.Versions(ctx, registry.VersionFilter{SchemaID: a.ID})
	must(t, err)
	equal(t, "by schema id", byID, []registry.Version{rows[2], rows[1]})
	none, err := s.Versions(ctx, registry.VersionFilter{Subject: "missing"})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("missing subject: %v, want none", none)
	}
}

// softDelete marks orders 2 deleted and deprecated, relabelled, as the
// registry's soft delete does before a permanent one; it returns the row.
func softDelete(t *testing.T, s registry.Store, rows []registry.Version) registry.Version {
	t.Helper()
	up := rows[0]
	up.Deleted, up.State, up.Label = true, registry.StateDeprecated, "2.0.0"
	must(t, s.UpdateVersion(context.Background(), up))
	return up
}

func (x registrySuite) updateVersion(t *testing.T) {
	ctx := context.Background()
	s, _, _, rows := x.seedVersions(t)
	up := softDelete(t, s, rows)
	orders, err := s.Versions(ctx, registry.VersionFilter{Subject: "orders"})
	must(t, err)
	equal(t, "after update", orders, []registry.Version{rows[1], up})
	if err := s.UpdateVersion(ctx, registry.Version{Subject: "orders", Version: 9, State: registry.StateRegistered}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("update of missing version: err = %v, want ErrNotFound", err)
	}
}

func (x registrySuite) deleteVersion(t *testing.T) {
	ctx := context.Background()
	s, _, b, rows := x.seedVersions(t)
	softDelete(t, s, rows)
	must(t, s.DeleteVersion(ctx, "orders", 2))
	if err := s.DeleteVersion(ctx, "orders", 2); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("second delete: err = %v, want ErrNotFound", err)
	}
	orders, err := s.Versions(ctx, registry.VersionFilter{Subject: "orders"})
	must(t, err)
	equal(t, "after delete", orders, []registry.Version{rows[1]})
	// The schema outlives its versions: ids are never reused.
	got, err := s.Schema(ctx, b.ID)
	must(t, err)
	equal(t, "schema after its version's delete", got, b)
}

func (x registrySuite) config(t *testing.T) {
	ctx := context.Background()
	s := x.open(t)
	for _, subject := range []string{"", "orders"} {
		if _, err := s.Config(ctx, subject); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("Config(%q) unset: err = %v, want ErrNotFound", subject, err)
		}
	}
	global := registry.Config{Compatibility: "FULL", Mode: registry.ModeReadWrite}
	orders := registry.Config{Subject: "orders", Mode: registry.ModeReadOnly, EnforceNew: true}
	must(t, s.SetConfig(ctx, global))
	must(t, s.SetConfig(ctx, orders))
	got, err := s.Config(ctx, "")
	must(t, err)
	equal(t, "global", got, global)
	got, err = s.Config(ctx, "orders")
	must(t, err)
	equal(t, "orders", got, orders)
	orders.Compatibility, orders.EnforceNew = "NONE", false
	must(t, s.SetConfig(ctx, orders))
	got, err = s.Config(ctx, "orders")
	must(t, err)
	equal(t, "orders replaced", got, orders)
	must(t, s.DeleteConfig(ctx, "orders"))
	must(t, s.DeleteConfig(ctx, "orders"))
	if _, err := s.Config(ctx, "orders"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("deleted config: err = %v, want ErrNotFound", err)
	}
	got, err = s.Config(ctx, "")
	must(t, err)
	equal(t, "global untouched", got, global)
}

func (x registrySuite) service(t *testing.T) {
	ctx := context.Background()
	// The service's rules over this driver, end to end: a smoke test;
	// the rules' table tests live in package registry.
	r, err := registry.New(registry.Options{Store: x.open(t)})
	must(t, err)
	v1, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: schema.FormatJSON, Schema: `{"type":"object"}`})
	must(t, err)
	v2, err := r.Register(ctx, registry.RegisterRequest{Subject: "t", Format: schema.FormatJSON, Schema: `{ "type": "object" }`})
	must(t, err)
	equal(t, "shared id", v2.SchemaID, v1.SchemaID)
	_, err = r.DeleteSubject(ctx, "s", false)
	must(t, err)
	_, err = r.DeleteSubject(ctx, "s", true)
	must(t, err)
	subjects, err := r.Subjects(ctx, true)
	must(t, err)
	equal(t, "subjects", subjects, []string{"t"})

	// Rules are stored with their schema and read back; other rules
	// for the same text are a new version under a new id.
	rs := &registry.RuleSet{DomainRules: []registry.Rule{{
		Name: "positive", Kind: "CONDITION", Mode: "WRITE", Type: "CEL", Expr: "message.n > 0",
		Params: map[string]string{"message": "n must be positive", "field": "/n"},
	}}}
	v3, err := r.Register(ctx, registry.RegisterRequest{Subject: "t", Format: schema.FormatJSON, Schema: `{"type":"object"}`, RuleSet: rs})
	must(t, err)
	equal(t, "version with rules", v3.Version.Version, 2)
	if v3.SchemaID == v1.SchemaID {
		t.Fatalf("same text with rules has id %d, the id without: want a new one", v3.SchemaID)
	}
	got, err := r.Get(ctx, "t", 2, false)
	must(t, err)
	back, err := registry.ParseRuleSet(got.RuleSet)
	must(t, err)
	equal(t, "rule set read back", back, rs)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}
