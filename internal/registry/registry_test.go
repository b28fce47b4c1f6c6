package registry_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat"
)

// Avro schemas of one record evolving: v2 adds a field with a default
// (BACKWARD compatible), bad adds one without (BACKWARD incompatible).
const (
	avroV1  = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}`
	avroV2  = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}`
	avroBad = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"age","type":"int"}]}`
	jsonA   = `{"type":"string","maxLength":5}`
	jsonB   = `{"type":"string","maxLength":10}`
)

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	s, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "registry.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r, err := registry.New(registry.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func reg(t *testing.T, r *registry.Registry, subject string, format schema.Format, src string) registry.SubjectSchema {
	t.Helper()
	got, err := r.Register(context.Background(), registry.RegisterRequest{Subject: subject, Format: format, Schema: src})
	if err != nil {
		t.Fatalf("registering under %s: %v", subject, err)
	}
	return got
}

func TestNewRequiresStore(t *testing.T) {
	t.Parallel()
	if _, err := registry.New(registry.Options{}); err == nil {
		t.Fatal("New without a Store succeeded")
	}
}

func TestRegisterIDsAndVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	a1 := reg(t, r, "a", schema.FormatAvro, avroV1)
	a2 := reg(t, r, "a", schema.FormatAvro, avroV2)
	b1 := reg(t, r, "b", "", "  "+avroV1+"\n") // "" is AVRO; whitespace is not a new schema
	again := reg(t, r, "a", schema.FormatAvro, avroV1)
	j1 := reg(t, r, "j", schema.FormatJSON, jsonA)

	tests := []struct {
		name            string
		got             registry.SubjectSchema
		version, schema int
	}{
		{"first version of a", a1, 1, a1.SchemaID},
		{"second version of a", a2, 2, a1.SchemaID + 1},
		{"same schema under another subject shares the id", b1, 1, a1.SchemaID},
		{"re-registering is idempotent", again, 1, a1.SchemaID},
		{"another schema, another id", j1, 1, a2.SchemaID + 1},
	}
	for _, tc := range tests {
		if tc.got.Version.Version != tc.version || tc.got.SchemaID != tc.schema {
			t.Errorf("%s: version %d id %d, want version %d id %d", tc.name, tc.got.Version.Version, tc.got.SchemaID, tc.version, tc.schema)
		}
	}
	if a1.State != registry.StateRegistered {
		t.Errorf("new version state %q, want registered", a1.State)
	}
	versions, err := r.Versions(ctx, "a", false)
	if err != nil || len(versions) != 2 {
		t.Fatalf("Versions(a) = %v, %v; want 2 versions", versions, err)
	}
	subjects, err := r.VersionsByID(ctx, a1.SchemaID, false)
	if err != nil || len(subjects) != 2 || subjects[0].Subject != "a" || subjects[1].Subject != "b" {
		t.Fatalf("VersionsByID = %v, %v; want a/1 and b/1", subjects, err)
	}
	s, err := r.SchemaByID(ctx, j1.SchemaID)
	if err != nil || s.Text != jsonA || s.Format != schema.FormatJSON {
		t.Fatalf("SchemaByID = %+v, %v", s, err)
	}
	if _, err := r.SchemaByID(ctx, 999); !errors.Is(err, registry.ErrSchemaNotFound) {
		t.Fatalf("SchemaByID(999): %v, want ErrSchemaNotFound", err)
	}
}

func TestRegisterRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  registry.RegisterRequest
		want error
	}{
		{"protobuf without a message", registry.RegisterRequest{Subject: "s", Format: "PROTOBUF", Schema: `syntax = "proto3";`}, registry.ErrInvalidSchema},
		{"bad protobuf", registry.RegisterRequest{Subject: "s", Format: "PROTOBUF", Schema: `syntax = "proto3"; message M { strnig a = 1; }`}, registry.ErrInvalidSchema},
		{"unknown type", registry.RegisterRequest{Subject: "s", Format: "XML", Schema: `{}`}, registry.ErrInvalidSchema},
		{"not JSON", registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: `{`}, registry.ErrInvalidSchema},
		{"bad avro", registry.RegisterRequest{Subject: "s", Format: "AVRO", Schema: `{"type":"record"}`}, registry.ErrInvalidSchema},
		{"empty subject", registry.RegisterRequest{Format: "JSON", Schema: `{}`}, registry.ErrInvalidSchema},
		{"bad label", registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: `{}`, Label: "v1"}, registry.ErrInvalidLabel},
		{"id outside IMPORT", registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: `{}`, ID: 7}, registry.ErrOperationNotPermitted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newRegistry(t).Register(context.Background(), tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	got, err := r.Register(context.Background(), registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: jsonA, Label: "1.1.0-rc.1"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := r.Get(context.Background(), "s", 1, false)
	if err != nil || back.Label != "1.1.0-rc.1" || got.Label != "1.1.0-rc.1" {
		t.Fatalf("label = %q / %q (%v), want 1.1.0-rc.1", got.Label, back.Label, err)
	}
}

func TestCompatibility(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		global, level string // "" leaves it unset
		schemas       []string
		wantRefused   bool
	}{
		{name: "default BACKWARD accepts a field with a default", schemas: []string{avroV1, avroV2}},
		{name: "default BACKWARD refuses a field without one", schemas: []string{avroV1, avroBad}, wantRefused: true},
		{name: "subject NONE accepts anything", level: "NONE", schemas: []string{avroV1, avroBad}},
		{name: "global NONE accepts anything", global: "NONE", schemas: []string{avroV1, avroBad}},
		{name: "subject level beats global", global: "NONE", level: "BACKWARD", schemas: []string{avroV1, avroBad}, wantRefused: true},
		{name: "FORWARD accepts a new field without default", level: "forward", schemas: []string{avroV1, avroBad}},
		{name: "FULL refuses a field without default", level: "FULL", schemas: []string{avroV1, avroBad}, wantRefused: true},
		// v3 (=v1) reads v2's data but, transitively, also v1's: fine; bad
		// after v2 under BACKWARD_TRANSITIVE fails against both.
		{name: "BACKWARD_TRANSITIVE", level: "BACKWARD_TRANSITIVE", schemas: []string{avroV1, avroV2, avroBad}, wantRefused: true},
		{name: "type change refused", schemas: []string{avroV1, jsonA}, wantRefused: true},
		{name: "type change allowed under NONE", level: "NONE", schemas: []string{avroV1, jsonA}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newRegistry(t)
			if tc.global != "" {
				if _, err := r.SetCompatibility(ctx, "", tc.global); err != nil {
					t.Fatal(err)
				}
			}
			if tc.level != "" {
				if _, err := r.SetCompatibility(ctx, "s", tc.level); err != nil {
					t.Fatal(err)
				}
			}
			last := len(tc.schemas) - 1
			for _, src := range tc.schemas[:last] {
				reg(t, r, "s", format(src), src)
			}
			_, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: format(tc.schemas[last]), Schema: tc.schemas[last]})
			if !tc.wantRefused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ie *registry.IncompatibleError
			if !errors.As(err, &ie) || !errors.Is(err, registry.ErrIncompatible) {
				t.Fatalf("err = %v, want an *IncompatibleError", err)
			}
			if len(ie.Changes) == 0 || !strings.Contains(err.Error(), ie.Changes[0].Kind) {
				t.Fatalf("refusal does not explain itself: %v", err)
			}
			versions, _ := r.Versions(ctx, "s", true)
			if len(versions) != last {
				t.Fatalf("%d versions after the refusal, want %d", len(versions), last)
			}
		})
	}
}

func format(src string) schema.Format {
	if strings.Contains(src, `"record"`) {
		return schema.FormatAvro
	}
	return schema.FormatJSON
}

func TestCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	reg(t, r, "s", "AVRO", avroV1)
	reg(t, r, "s", "AVRO", avroV2)
	tests := []struct {
		name    string
		version int
		src     string
		want    bool
		wantErr error
	}{
		{"against latest", registry.Latest, avroV2, true, nil},
		{"bad against all", 0, avroBad, false, nil},
		{"against version 1", 1, avroV2, true, nil},
		{"missing version", 7, avroV2, false, registry.ErrVersionNotFound},
		{"invalid version", -5, avroV2, false, registry.ErrInvalidVersion},
		{"invalid schema", 0, `{"type":"nope"}`, false, registry.ErrInvalidSchema},
	}
	for _, tc := range tests {
		res, err := r.Check(ctx, "s", tc.version, "AVRO", tc.src)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || res.Compatible != tc.want {
			t.Errorf("%s: compatible = %v (%v), want %v", tc.name, res.Compatible, err, tc.want)
		}
		if !tc.want && len(res.Breaking()) == 0 {
			t.Errorf("%s: incompatible without a breaking change", tc.name)
		}
	}
	// A subject with no versions: everything is compatible.
	res, err := r.Check(ctx, "empty", 0, "AVRO", avroBad)
	if err != nil || !res.Compatible {
		t.Fatalf("check on an empty subject: %v, %v", res, err)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	reg(t, r, "s", "AVRO", avroV1)
	v2 := reg(t, r, "s", "AVRO", avroV2)
	reg(t, r, "other", "JSON", jsonA)
	got, err := r.Lookup(ctx, registry.LookupRequest{Subject: "s", Format: "AVRO", Schema: "\n" + avroV2})
	if err != nil || got.Version.Version != 2 || got.SchemaID != v2.SchemaID {
		t.Fatalf("Lookup = %+v, %v; want version 2", got, err)
	}
	if _, err := r.Lookup(ctx, registry.LookupRequest{Subject: "s", Format: "JSON", Schema: jsonA}); !errors.Is(err, registry.ErrSchemaNotFound) {
		t.Fatalf("schema of another subject: %v, want ErrSchemaNotFound", err)
	}
	if _, err := r.Lookup(ctx, registry.LookupRequest{Subject: "nope", Format: "JSON", Schema: jsonA}); !errors.Is(err, registry.ErrSubjectNotFound) {
		t.Fatalf("missing subject: %v, want ErrSubjectNotFound", err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	type step struct {
		op        string // "version" or "subject"
		version   int
		permanent bool
		want      error
	}
	tests := []struct {
		name         string
		steps        []step
		wantLive     []int
		wantAll      []int
		wantSubjects []string // live subjects
	}{
		{"soft delete a version", []step{{"version", 1, false, nil}}, []int{2}, []int{1, 2}, []string{"s"}},
		{"hard delete needs a soft delete first", []step{{"version", 1, true, registry.ErrVersionNotSoftDeleted}}, []int{1, 2}, []int{1, 2}, []string{"s"}},
		{"soft then hard", []step{{"version", 1, false, nil}, {"version", 1, true, nil}}, []int{2}, []int{2}, []string{"s"}},
		{"soft twice", []step{{"version", 2, false, nil}, {"version", 2, false, registry.ErrVersionSoftDeleted}}, []int{1}, []int{1, 2}, []string{"s"}},
		{"latest", []step{{"version", registry.Latest, false, nil}}, []int{1}, []int{1, 2}, []string{"s"}},
		{"missing version", []step{{"version", 9, false, registry.ErrVersionNotFound}}, []int{1, 2}, []int{1, 2}, []string{"s"}},
		{"bad version", []step{{"version", 0, false, registry.ErrInvalidVersion}}, []int{1, 2}, []int{1, 2}, []string{"s"}},
		{"soft delete subject", []step{{"subject", 0, false, nil}}, nil, []int{1, 2}, []string{}},
		{"hard delete subject needs soft", []step{{"subject", 0, true, registry.ErrSubjectNotSoftDeleted}}, []int{1, 2}, []int{1, 2}, []string{"s"}},
		{"subject soft twice", []step{{"subject", 0, false, nil}, {"subject", 0, false, registry.ErrSubjectSoftDeleted}}, nil, []int{1, 2}, []string{}},
		{"subject soft then hard", []step{{"subject", 0, false, nil}, {"subject", 0, true, nil}}, nil, nil, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newRegistry(t)
			reg(t, r, "s", "AVRO", avroV1)
			reg(t, r, "s", "AVRO", avroV2)
			for i, st := range tc.steps {
				var err error
				if st.op == "version" {
					_, err = r.DeleteVersion(ctx, "s", st.version, st.permanent)
				} else {
					_, err = r.DeleteSubject(ctx, "s", st.permanent)
				}
				if !errors.Is(err, st.want) {
					t.Fatalf("step %d: err = %v, want %v", i, err, st.want)
				}
			}
			if got := numbers(t, r, false); !reflect.DeepEqual(got, tc.wantLive) {
				t.Errorf("live versions %v, want %v", got, tc.wantLive)
			}
			if got := numbers(t, r, true); !reflect.DeepEqual(got, tc.wantAll) {
				t.Errorf("all versions %v, want %v", got, tc.wantAll)
			}
			subjects, err := r.Subjects(ctx, false)
			if err != nil || !reflect.DeepEqual(subjects, tc.wantSubjects) {
				t.Errorf("subjects %v (%v), want %v", subjects, err, tc.wantSubjects)
			}
		})
	}
}

func numbers(t *testing.T, r *registry.Registry, deleted bool) []int {
	t.Helper()
	vs, err := r.Versions(context.Background(), "s", deleted)
	if errors.Is(err, registry.ErrSubjectNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, v := range vs {
		out = append(out, v.Version)
	}
	return out
}

func TestDeletedVersionsAndReregistering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	v1 := reg(t, r, "s", "AVRO", avroV1)
	if _, err := r.DeleteSubject(ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, "s", 1, false); !errors.Is(err, registry.ErrSubjectNotFound) {
		t.Fatalf("Get of a soft-deleted subject: %v, want ErrSubjectNotFound", err)
	}
	if got, err := r.Get(ctx, "s", 1, true); err != nil || got.SchemaID != v1.SchemaID {
		t.Fatalf("Get with deleted: %+v, %v", got, err)
	}
	// Registering again after a soft delete makes a new version, same id,
	// and the deleted version is not checked against.
	again := reg(t, r, "s", "AVRO", avroBad)
	if again.Version.Version != 2 {
		t.Fatalf("version after soft delete = %d, want 2", again.Version.Version)
	}
	if subjects, _ := r.Subjects(ctx, false); !reflect.DeepEqual(subjects, []string{"s"}) {
		t.Fatalf("subjects = %v, want [s]", subjects)
	}
}

func TestModes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	reg(t, r, "s", "AVRO", avroV1)
	if m, err := r.Mode(ctx, "s"); err != nil || m != registry.ModeReadWrite {
		t.Fatalf("default mode %q, %v", m, err)
	}
	if _, err := r.SetMode(ctx, "s", "WRITEONLY"); !errors.Is(err, registry.ErrInvalidMode) {
		t.Fatalf("unknown mode: %v", err)
	}
	if _, err := r.SetMode(ctx, "", "READONLY"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: "AVRO", Schema: avroV2}); !errors.Is(err, registry.ErrOperationNotPermitted) {
		t.Fatalf("register under global READONLY: %v", err)
	}
	if _, err := r.DeleteSubject(ctx, "s", false); !errors.Is(err, registry.ErrOperationNotPermitted) {
		t.Fatalf("delete under READONLY: %v", err)
	}
	// The subject's mode beats the global one.
	if _, err := r.SetMode(ctx, "s", "IMPORT"); err != nil {
		t.Fatal(err)
	}
	// IMPORT: ids and versions kept as given, no compatibility check.
	got, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: "AVRO", Schema: avroBad, ID: 42, Version: 7})
	if err != nil || got.SchemaID != 42 || got.Version.Version != 7 {
		t.Fatalf("import: %+v, %v; want id 42 version 7", got, err)
	}
	prev, err := r.DeleteMode(ctx, "s")
	if err != nil || prev != registry.ModeImport {
		t.Fatalf("DeleteMode = %q, %v", prev, err)
	}
	if m, _ := r.Mode(ctx, "s"); m != registry.ModeReadOnly {
		t.Fatalf("mode after delete = %q, want the global READONLY", m)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	if l, err := r.Compatibility(ctx, "s"); err != nil || l != compat.Backward {
		t.Fatalf("default level %q, %v", l, err)
	}
	if _, err := r.SetCompatibility(ctx, "s", "SIDEWAYS"); !errors.Is(err, registry.ErrInvalidCompatibility) {
		t.Fatalf("bad level: %v", err)
	}
	if _, err := r.SetCompatibility(ctx, "", "full_transitive"); err != nil {
		t.Fatal(err)
	}
	if l, _ := r.Compatibility(ctx, "s"); l != compat.FullTransitive {
		t.Fatalf("inherited level %q, want FULL_TRANSITIVE", l)
	}
	if _, err := r.SetCompatibility(ctx, "s", "NONE"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetMode(ctx, "s", "READWRITE"); err != nil {
		t.Fatal(err)
	}
	if prev, err := r.DeleteCompatibility(ctx, "s"); err != nil || prev != compat.None {
		t.Fatalf("DeleteCompatibility = %q, %v", prev, err)
	}
	c, err := r.Config(ctx, "s")
	if err != nil || c.Compatibility != "" || c.Mode != registry.ModeReadWrite {
		t.Fatalf("config after deleting the level = %+v, %v; the mode must stay", c, err)
	}
	if _, err := r.DeleteMode(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Config(ctx, "s"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("config with nothing set: %v, want ErrNotFound", err)
	}
}

func TestRolloutState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	reg(t, r, "s", "AVRO", avroV1)
	for _, st := range []registry.State{registry.StateEnforced, registry.StateDeprecated, registry.StateRegistered} {
		v, err := r.SetState(ctx, "s", 1, st)
		if err != nil || v.State != st {
			t.Fatalf("SetState(%s) = %+v, %v", st, v, err)
		}
		got, _ := r.Get(ctx, "s", 1, false)
		if got.State != st {
			t.Fatalf("stored state %q, want %q", got.State, st)
		}
	}
	if _, err := r.SetState(ctx, "s", 1, "live"); !errors.Is(err, registry.ErrInvalidState) {
		t.Fatalf("bad state: %v", err)
	}
	if _, err := r.SetState(ctx, "s", 3, registry.StateEnforced); !errors.Is(err, registry.ErrVersionNotFound) {
		t.Fatalf("missing version: %v", err)
	}
	if err := r.SetEnforceNew(ctx, "s", true); err != nil {
		t.Fatal(err)
	}
	v2 := reg(t, r, "s", "AVRO", avroV2)
	if v2.State != registry.StateEnforced {
		t.Fatalf("state under EnforceNew = %q, want enforced", v2.State)
	}
	given, err := r.Register(ctx, registry.RegisterRequest{Subject: "given", Format: "AVRO", Schema: avroV1, State: registry.StateDeprecated})
	if err != nil || given.State != registry.StateDeprecated {
		t.Fatalf("register with a state: %+v, %v", given, err)
	}
	if _, err := r.Register(ctx, registry.RegisterRequest{Subject: "given", Format: "AVRO", Schema: avroV2, State: "live"}); !errors.Is(err, registry.ErrInvalidState) {
		t.Fatalf("register with a bad state: %v", err)
	}
	other := reg(t, r, "other", "AVRO", avroV2)
	if other.State != registry.StateRegistered {
		t.Fatalf("EnforceNew leaked to another subject: %q", other.State)
	}
}

// TestChangeState: a change from a given state is made only from it,
// returning the state it left; from another it is a *WrongStateError and
// changes nothing; of concurrent changes from the same state, one is made.
func TestChangeState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	reg(t, r, "s", "AVRO", avroV1)

	v, left, err := r.ChangeState(ctx, "s", 1, registry.StateRegistered, registry.StateShadow)
	if err != nil || v.State != registry.StateShadow || left != registry.StateRegistered {
		t.Fatalf("ChangeState(registered -> shadow) = %+v, %q, %v", v, left, err)
	}
	_, _, err = r.ChangeState(ctx, "s", 1, registry.StateRegistered, registry.StateShadow)
	var wrong *registry.WrongStateError
	if !errors.As(err, &wrong) || err.Error() != "version 1 of s is shadow, not registered" {
		t.Fatalf("from the wrong state: %v, want a WrongStateError", err)
	}
	if got, _ := r.Get(ctx, "s", 1, false); got.State != registry.StateShadow {
		t.Fatalf("stored state %q after a refused change, want shadow", got.State)
	}
	if _, left, err = r.ChangeState(ctx, "s", registry.Latest, "", registry.StateEnforced); err != nil || left != registry.StateShadow {
		t.Fatalf("ChangeState(any -> enforced) left %q, %v; want shadow", left, err)
	}

	// Concurrent stops of one shadow: one is made, the others refused.
	if _, err := r.SetState(ctx, "s", 1, registry.StateShadow); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, _, err := r.ChangeState(ctx, "s", 1, registry.StateShadow, registry.StateRegistered)
			errs <- err
		}()
	}
	made := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			made++
		case !errors.As(err, &wrong):
			t.Fatalf("concurrent change: %v", err)
		}
	}
	if made != 1 {
		t.Fatalf("%d of %d concurrent changes from shadow made, want 1", made, n)
	}
}

// TestConcurrentRegistration: writers racing to register one schema make
// one version and agree on its id.
func TestConcurrentRegistration(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	const n = 8
	ids := make(chan int, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			got, err := r.Register(context.Background(), registry.RegisterRequest{Subject: "s", Format: "AVRO", Schema: avroV1})
			ids <- got.SchemaID
			errs <- err
		}()
	}
	first := <-ids
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	for range n - 1 {
		if id, err := <-ids, <-errs; err != nil || id != first {
			t.Fatalf("id %d (%v), want %d", id, err, first)
		}
	}
	if got := numbers(t, r, true); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("versions %v, want [1]", got)
	}
}

// TestHardDeletedSubjectStartsOver: after a permanent delete the subject's
// versions restart at 1, as in Confluent, and its configuration is gone;
// the schema keeps its id.
func TestHardDeletedSubjectStartsOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	reg(t, r, "s", "AVRO", avroV1)
	v2 := reg(t, r, "s", "AVRO", avroV2)
	if _, err := r.SetCompatibility(ctx, "s", "NONE"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeleteSubject(ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeleteSubject(ctx, "s", true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Config(ctx, "s"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("config after hard delete: %v, want ErrNotFound", err)
	}
	again := reg(t, r, "s", "AVRO", avroV2)
	if again.Version.Version != 1 || again.SchemaID != v2.SchemaID {
		t.Fatalf("after hard delete: version %d id %d, want version 1 id %d", again.Version.Version, again.SchemaID, v2.SchemaID)
	}
}

func TestAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	reg(t, r, "b", "AVRO", avroV1)
	reg(t, r, "b", "AVRO", avroV2)
	reg(t, r, "a", "JSON", jsonA)
	if _, err := r.DeleteVersion(ctx, "b", 2, false); err != nil {
		t.Fatal(err)
	}
	key := func(all []registry.SubjectSchema) []string {
		var out []string
		for _, s := range all {
			out = append(out, s.Subject+"/"+strconv.Itoa(s.Version.Version))
		}
		return out
	}
	tests := []struct {
		name                string
		deleted, latestOnly bool
		want                []string
	}{
		{"live", false, false, []string{"a/1", "b/1"}},
		{"with deleted", true, false, []string{"a/1", "b/1", "b/2"}},
		{"latest only", false, true, []string{"a/1", "b/1"}},
		{"latest only with deleted", true, true, []string{"a/1", "b/2"}},
	}
	for _, tc := range tests {
		all, err := r.All(ctx, tc.deleted, tc.latestOnly)
		if err != nil {
			t.Fatal(err)
		}
		if got := key(all); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A .proto is stored as given, trimmed (not JSON-compacted), registering
// it again is idempotent, and a BACKWARD-incompatible change is refused.
func TestRegisterProtobuf(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	v1 := "syntax = \"proto3\";\npackage p;\n\nmessage M {\n  string id = 1;\n}"
	got, err := r.Register(ctx, registry.RegisterRequest{Subject: "p", Format: "protobuf", Schema: "\n" + v1 + "\n\n"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != schema.FormatProtobuf || got.Text != v1 || got.Version.Version != 1 {
		t.Fatalf("registered %+v", got)
	}
	again, err := r.Register(ctx, registry.RegisterRequest{Subject: "p", Format: schema.FormatProtobuf, Schema: v1})
	if err != nil || again.SchemaID != got.SchemaID || again.Version.Version != 1 {
		t.Fatalf("again: %+v, %v", again, err)
	}
	v2 := strings.Replace(v1, "string id = 1;", "string id = 1;\n  int64 n = 2;", 1)
	if _, err := r.Register(ctx, registry.RegisterRequest{Subject: "p", Format: schema.FormatProtobuf, Schema: v2}); err != nil {
		t.Fatalf("adding a field: %v", err)
	}
	bad := strings.Replace(v2, "int64 n = 2;", "string n = 2;", 1)
	_, err = r.Register(ctx, registry.RegisterRequest{Subject: "p", Format: schema.FormatProtobuf, Schema: bad})
	var ie *registry.IncompatibleError
	if !errors.As(err, &ie) || ie.Changes[0].Kind != "FIELD_KIND_CHANGED" || ie.Changes[0].Path != "/p.M/n" {
		t.Fatalf("retyping a field: %v", err)
	}
}
