package registry_test

import (
	"context"
	"errors"
	"reflect"
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
	// No rule set inherits the latest version's, as in Confluent: v2.
	if again := register(nil); again.Version != v2.Version {
		t.Fatalf("no rule set: version %d, want 2 (the latest's rules inherited)", again.Version.Version)
	}
	// An empty rule set is none: v1 is still live, so it is returned.
	if again := register(&registry.RuleSet{}); again.Version.Version != 1 {
		t.Fatalf("empty rule set: version %d, want 1", again.Version.Version)
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
	// Lookup compares schemas: the newest version with this one, whatever
	// its rules, unless the request names rules.
	if l, err := r.Lookup(ctx, registry.LookupRequest{Subject: "events", Format: schema.FormatJSON, Schema: tsSchema}); err != nil || l.Version.Version != 3 {
		t.Fatalf("Lookup = version %d, %v; want 3", l.Version.Version, err)
	}
	if l, err := r.Lookup(ctx, registry.LookupRequest{Subject: "events", Format: schema.FormatJSON, Schema: tsSchema, RuleSet: rs}); err != nil || l.Version.Version != 2 {
		t.Fatalf("Lookup with v2's rules = version %d, %v; want 2", l.Version.Version, err)
	}
	if l, err := r.Lookup(ctx, registry.LookupRequest{Subject: "events", Format: schema.FormatJSON, Schema: tsSchema, RuleSet: &registry.RuleSet{}}); err != nil || l.Version.Version != 1 {
		t.Fatalf("Lookup with no rules = version %d, %v; want 1", l.Version.Version, err)
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

// Any well-formed rule set is stored, as Confluent's registry does: rules
// the gateway does not run (migration and encoding rules, TRANSFORMs,
// JSONATA, CEL_FIELD) are returned as given, with Confluent's defaults
// filled in; only the domain CEL conditions are run.
func TestRuleSetStoredForClients(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	rs := &registry.RuleSet{
		MigrationRules: []registry.Rule{{Name: "upgrade_v2", Kind: "transform", Mode: "upgrade", Type: "JSONATA", Expr: "$merge([$, {'full_name': $.name}])"}},
		DomainRules: []registry.Rule{
			{Name: "mask", Type: "CEL_FIELD", Expr: "name == 'ssn' ; 'XXX'", Tags: []string{"PII", "GDPR", "PII"}},
			{Name: "encrypt", Kind: "TRANSFORM", Mode: "WRITEREAD", Type: "ENCRYPT", Params: map[string]string{"encrypt.kek.name": "k"}, OnFailure: "ERROR,NONE"},
			celRule("positive", "message.n > 0", map[string]string{"message": "n must be positive"}),
		},
		EncodingRules: []registry.Rule{{Name: "payload", Kind: "TRANSFORM", Mode: "WRITEREAD", Type: "ENCRYPT_PAYLOAD"}},
		EnableAt:      "PROCESSOR",
	}
	v, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: schema.FormatJSON, Schema: tsSchema, RuleSet: rs})
	if err != nil {
		t.Fatal(err)
	}
	back, err := registry.ParseRuleSet(v.RuleSet)
	if err != nil {
		t.Fatal(err)
	}
	want := registry.RuleSet{
		MigrationRules: []registry.Rule{{Name: "upgrade_v2", Kind: "TRANSFORM", Mode: "UPGRADE", Type: "JSONATA", Expr: "$merge([$, {'full_name': $.name}])"}},
		DomainRules: []registry.Rule{
			{Name: "mask", Kind: "TRANSFORM", Mode: "WRITEREAD", Type: "CEL_FIELD", Expr: "name == 'ssn' ; 'XXX'", Tags: []string{"GDPR", "PII"}},
			rs.DomainRules[1],
			celRule("positive", "message.n > 0", map[string]string{"message": "n must be positive"}),
		},
		EncodingRules: rs.EncodingRules,
		EnableAt:      "PROCESSOR",
	}
	if !reflect.DeepEqual(*back, want) {
		t.Fatalf("stored rule set:\n got %+v\nwant %+v", *back, want)
	}
	equalSpecs(t, back.Specs(), []rules.Spec{{Name: "positive", Expr: "message.n > 0", Message: "n must be positive"}})
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
		{"no name", registry.RuleSet{DomainRules: []registry.Rule{celRule("", "true", nil)}}, "domainRules[0]: missing rule name"},
		{"illegal name", registry.RuleSet{DomainRules: []registry.Rule{celRule("1st", "true", nil)}}, `illegal initial character in rule name "1st"`},
		{"duplicate name", registry.RuleSet{DomainRules: []registry.Rule{celRule("a", "true", nil)}, EncodingRules: []registry.Rule{{Name: "a", Type: "ENCRYPT"}}}, `encodingRules[0] (a): found rule with duplicate name "a"`},
		{"no type", registry.RuleSet{DomainRules: []registry.Rule{{Name: "t", Kind: "CONDITION"}}}, "domainRules[0] (t): missing rule type"},
		{"unknown kind", registry.RuleSet{DomainRules: []registry.Rule{{Name: "k", Kind: "CHECK", Type: "CEL"}}}, `kind "CHECK"`},
		{"migration rule with a write mode", registry.RuleSet{MigrationRules: []registry.Rule{{Name: "m", Kind: "TRANSFORM", Mode: "WRITE", Type: "JSONATA"}}}, "migrationRules can only be UPGRADE, DOWNGRADE, UPDOWN"},
		{"migration rule with the default mode", registry.RuleSet{MigrationRules: []registry.Rule{{Name: "m", Type: "JSONATA"}}}, `mode "WRITEREAD"`},
		{"domain rule with a migration mode", registry.RuleSet{DomainRules: []registry.Rule{{Name: "d", Mode: "UPDOWN", Type: "JSONATA"}}}, "domainRules can only be WRITE, READ, WRITEREAD"},
		{"two actions on a write rule", registry.RuleSet{DomainRules: []registry.Rule{{Name: "w", Mode: "WRITE", Type: "ENCRYPT", OnFailure: "ERROR,NONE"}}}, "multiple actions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRegistry(t)
			_, err := r.Register(context.Background(), registry.RegisterRequest{Subject: "s", Format: schema.FormatJSON, Schema: tsSchema, RuleSet: &tt.rs})
			if !errors.Is(err, registry.ErrInvalidRuleSet) {
				t.Fatalf("err = %v, want ErrInvalidRuleSet", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Count(err.Error(), ";") > 0 && tt.name != "duplicate name" {
				t.Fatalf("err = %v: one problem reported twice", err)
			}
			if _, err := r.Versions(context.Background(), "s", true); !errors.Is(err, registry.ErrSubjectNotFound) {
				t.Fatalf("a refused registration stored something: %v", err)
			}
		})
	}
}
