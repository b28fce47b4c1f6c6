package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

const tsSchema = `{"type":"object","properties":{"timestamp":{"type":"string"}}}`

func celRule(name, expr string, params map[string]string) registry.Rule {
	return registry.Rule{Name: name, Kind: "CONDITION", Mode: "WRITE", Type: "CEL", Expr: expr, Params: params}
}

func TestRuleSetStoredWithVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	v1 := reg(t, r, "events", schema.FormatJSON, tsSchema)
	if v1.RuleSet != "" {
		t.Fatalf("v1 without rules has rule set %q", v1.RuleSet)
	}
	rs := &registry.RuleSet{DomainRules: []registry.Rule{
		celRule("future_timestamp_check", "timestamp(message.timestamp) <= now", map[string]string{"message": "Timestamp cannot be in future", "field": "/timestamp"}),
		{Name: "off", Kind: "CONDITION", Mode: "READ", Type: "CEL", Expr: "false", Disabled: true},
	}}
	register := func(rs *registry.RuleSet) registry.SubjectSchema {
		t.Helper()
		got, err := r.Register(ctx, registry.RegisterRequest{Subject: "events", Format: schema.FormatJSON, Schema: tsSchema, RuleSet: rs})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// The same text with rules: a new version and a new id, as in
	// Confluent (an id names text and rules together).
	v2 := register(rs)
	if v2.Version.Version != 2 || v2.SchemaID == v1.SchemaID {
		t.Fatalf("with rules: version %d id %d, want version 2 and an id other than %d", v2.Version.Version, v2.SchemaID, v1.SchemaID)
	}
	// The same rules again: idempotent.
	if again := register(rs); again.Version != v2.Version {
		t.Fatalf("same rules again: %+v, want %+v", again.Version, v2.Version)
	}
	// No rules again: v1 is still live, so it is returned.
	if again := register(nil); again.Version.Version != 1 {
		t.Fatalf("no rules again: version %d, want 1", again.Version.Version)
	}
	// Other rules: version 3.
	other := &registry.RuleSet{DomainRules: []registry.Rule{celRule("has_ts", "has(message.timestamp)", nil)}}
	if v3 := register(other); v3.Version.Version != 3 {
		t.Fatalf("other rules: version %d, want 3", v3.Version.Version)
	}

	got, err := r.Get(ctx, "events", 2, false)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := r.SchemaByID(ctx, v2.SchemaID)
	if err != nil || byID.RuleSet != got.RuleSet {
		t.Fatalf("SchemaByID(%d) = %+v, %v; want the rule set of version 2", v2.SchemaID, byID, err)
	}
	// Lookup compares texts: the newest version with this one.
	if l, err := r.Lookup(ctx, "events", schema.FormatJSON, tsSchema, false); err != nil || l.Version.Version != 3 {
		t.Fatalf("Lookup = version %d, %v; want 3", l.Version.Version, err)
	}
	back, err := registry.ParseRuleSet(got.RuleSet)
	if err != nil {
		t.Fatal(err)
	}
	want := []rules.Spec{{Name: "future_timestamp_check", Expr: "timestamp(message.timestamp) <= now", Message: "Timestamp cannot be in future", Field: "/timestamp"}}
	equalSpecs(t, back.Specs(), want) // the disabled rule is stored, not run
	if len(back.DomainRules) != 2 {
		t.Fatalf("stored %d domain rules, want 2", len(back.DomainRules))
	}
}

func equalSpecs(t *testing.T, got, want []rules.Spec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("specs %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("specs[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRuleSetRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rs   registry.RuleSet
		want string
	}{
		{"compile error", registry.RuleSet{DomainRules: []registry.Rule{celRule("bad", "message.n >", nil)}}, "domainRules[0] (bad).expr: 1:"},
		{"not a bool", registry.RuleSet{DomainRules: []registry.Rule{celRule("num", "1 + 2", nil)}}, "domainRules[0] (num).expr: must evaluate to a bool"},
		{"unknown variable", registry.RuleSet{DomainRules: []registry.Rule{celRule("this", "this.n > 0", nil)}}, "undeclared reference to 'this'"},
		{"bad field", registry.RuleSet{DomainRules: []registry.Rule{celRule("f", "true", map[string]string{"field": "n"})}}, "domainRules[0] (f).params.field: "},
		{"no name", registry.RuleSet{DomainRules: []registry.Rule{celRule("", "true", nil)}}, "domainRules[0].name: must not be empty"},
		{"duplicate name", registry.RuleSet{DomainRules: []registry.Rule{celRule("a", "true", nil), celRule("a", "true", nil)}}, "domainRules[1] (a).name"},
		{"transform", registry.RuleSet{DomainRules: []registry.Rule{{Name: "enc", Kind: "TRANSFORM", Type: "ENCRYPT", Expr: ""}}}, `kind "TRANSFORM", type "ENCRYPT": the gateway runs only kind CONDITION, type CEL`},
		{"jsonata", registry.RuleSet{DomainRules: []registry.Rule{{Name: "j", Kind: "CONDITION", Type: "JSONATA", Expr: "true"}}}, `type "JSONATA"`},
		{"migration rules", registry.RuleSet{MigrationRules: []registry.Rule{{Name: "m", Kind: "TRANSFORM", Type: "JSONATA", Expr: "$"}}}, "migrationRules: 1 given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRegistry(t)
			_, err := r.Register(context.Background(), registry.RegisterRequest{Subject: "s", Format: schema.FormatJSON, Schema: tsSchema, RuleSet: &tt.rs})
			if !errors.Is(err, registry.ErrInvalidRuleSet) || !errors.Is(err, registry.ErrInvalidSchema) {
				t.Fatalf("err = %v, want ErrInvalidRuleSet (an ErrInvalidSchema)", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if _, err := r.Versions(context.Background(), "s", true); !errors.Is(err, registry.ErrSubjectNotFound) {
				t.Fatalf("a refused registration stored something: %v", err)
			}
		})
	}
}
