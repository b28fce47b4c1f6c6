// Package registrytest is the conformance suite every registry.Store driver
// passes: Exercise runs the Store contract against a fresh store per
// subtest, as River's riverdrivertest does for its drivers.
package registrytest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// suite holds Exercise's subtests, one method each.
type suite struct {
	newStore func(t *testing.T) registry.Store
}

// open returns a fresh store, closed when t ends.
func (st suite) open(t *testing.T) registry.Store {
	t.Helper()
	s := st.newStore(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Exercise runs the suite. newStore returns an empty store, closed by the
// caller's cleanup or by Exercise's (Close is called and may be called
// again).
func Exercise(t *testing.T, newStore func(t *testing.T) registry.Store) {
	t.Helper()
	st := suite{newStore: newStore}
	t.Run("SchemaIDs", st.schemaIDs)
	t.Run("RuleSets", st.ruleSets)
	t.Run("Versions", st.versions)
	t.Run("Config", st.config)
	t.Run("Service", st.service)
}

func (st suite) schemaIDs(t *testing.T) {
	ctx := context.Background()
	s := st.open(t)
	if _, err := s.FindSchema(ctx, schema.FormatJSON, `{}`, ""); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("FindSchema on empty store: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Schema(ctx, 1); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Schema(1) on empty store: err = %v, want ErrNotFound", err)
	}
	a, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`})
	must(t, err)
	b, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatAvro, Text: `"string"`})
	must(t, err)
	if a.ID <= 0 || b.ID <= a.ID {
		t.Fatalf("ids %d then %d: want positive and increasing", a.ID, b.ID)
	}
	if _, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("same text again: err = %v, want ErrConflict", err)
	}
	got, err := s.FindSchema(ctx, schema.FormatJSON, `{}`, "")
	must(t, err)
	equal(t, "FindSchema", got, a)
	if _, err := s.FindSchema(ctx, schema.FormatAvro, `{}`, ""); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("same text, other format: err = %v, want ErrNotFound", err)
	}
	got, err = s.Schema(ctx, b.ID)
	must(t, err)
	equal(t, "Schema", got, b)
	// IMPORT mode: an explicit id is kept; a taken one conflicts.
	c, err := s.InsertSchema(ctx, registry.Schema{ID: 100, Format: schema.FormatJSON, Text: `{"type":"string"}`})
	must(t, err)
	equal(t, "explicit id", c.ID, 100)
	if _, err := s.InsertSchema(ctx, registry.Schema{ID: 100, Format: schema.FormatJSON, Text: `{"type":"integer"}`}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("taken id: err = %v, want ErrConflict", err)
	}
	d, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{"type":"number"}`})
	must(t, err)
	if d.ID <= 100 {
		t.Fatalf("id after explicit 100 = %d, want > 100", d.ID)
	}
}

func (st suite) ruleSets(t *testing.T) {
	ctx := context.Background()
	// The same text with other rules is another schema, with its own
	// id; the rule set is stored and read back as given.
	s := st.open(t)
	const rs1 = `{"domainRules":[{"name":"a","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"true"}]}`
	const rs2 = `{"domainRules":[{"name":"b","kind":"CONDITION","mode":"READ","type":"CEL","expr":"false"}]}`
	plain, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`})
	must(t, err)
	one, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`, RuleSet: rs1})
	must(t, err)
	two, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`, RuleSet: rs2})
	must(t, err)
	if plain.ID == one.ID || one.ID == two.ID {
		t.Fatalf("ids %d, %d, %d: want distinct", plain.ID, one.ID, two.ID)
	}
	if _, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`, RuleSet: rs1}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("same text and rules again: err = %v, want ErrConflict", err)
	}
	for _, want := range []registry.Schema{plain, one, two} {
		got, err := s.FindSchema(ctx, want.Format, want.Text, want.RuleSet)
		must(t, err)
		equal(t, "FindSchema with rules", got, want)
		got, err = s.Schema(ctx, want.ID)
		must(t, err)
		equal(t, "Schema with rules", got, want)
	}
	if _, err := s.FindSchema(ctx, schema.FormatJSON, `{}`, `{"domainRules":[]}`); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("other rules: err = %v, want ErrNotFound", err)
	}
}

func (st suite) versions(t *testing.T) {
	ctx := context.Background()
	s := st.open(t)
	a, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{}`})
	must(t, err)
	b, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: `{"type":"object"}`})
	must(t, err)
	rows := []registry.Version{
		{Subject: "orders", Version: 2, SchemaID: b.ID, State: registry.StateRegistered},
		{Subject: "orders", Version: 1, SchemaID: a.ID, Label: "1.0.0", State: registry.StateEnforced},
		{Subject: "audit", Version: 1, SchemaID: a.ID, State: registry.StateRegistered},
	}
	for _, v := range rows {
		must(t, s.InsertVersion(ctx, v))
	}
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

	up := rows[0]
	up.Deleted, up.State, up.Label = true, registry.StateDeprecated, "2.0.0"
	must(t, s.UpdateVersion(ctx, up))
	orders, err = s.Versions(ctx, registry.VersionFilter{Subject: "orders"})
	must(t, err)
	equal(t, "after update", orders, []registry.Version{rows[1], up})
	if err := s.UpdateVersion(ctx, registry.Version{Subject: "orders", Version: 9, State: registry.StateRegistered}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("update of missing version: err = %v, want ErrNotFound", err)
	}

	must(t, s.DeleteVersion(ctx, "orders", 2))
	if err := s.DeleteVersion(ctx, "orders", 2); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("second delete: err = %v, want ErrNotFound", err)
	}
	orders, err = s.Versions(ctx, registry.VersionFilter{Subject: "orders"})
	must(t, err)
	equal(t, "after delete", orders, []registry.Version{rows[1]})
	// The schema outlives its versions: ids are never reused.
	got, err := s.Schema(ctx, b.ID)
	must(t, err)
	equal(t, "schema after its version's delete", got, b)
}

func (st suite) config(t *testing.T) {
	ctx := context.Background()
	s := st.open(t)
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

func (st suite) service(t *testing.T) {
	ctx := context.Background()
	// The service's rules over this driver, end to end: a smoke test;
	// the rules' table tests live in package registry.
	r, err := registry.New(registry.Options{Store: st.open(t)})
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
