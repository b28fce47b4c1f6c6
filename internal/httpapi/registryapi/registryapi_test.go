package registryapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataquarantine/dataquarantine/internal/httpapi/registryapi"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

const (
	avroV1  = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}`
	avroV2  = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}`
	avroBad = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"age","type":"int"}]}`
	jsonA   = `{"type":"object","properties":{"name":{"type":"string"}}}`
)

// serve starts the API over a real SQLite store, mounted under /registry
// as the gateway mounts it.
func serve(t testing.TB) (*httptest.Server, *registry.Registry) {
	t.Helper()
	store, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "registry.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	reg, err := registry.New(registry.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	h, err := registryapi.New(registryapi.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/registry/", http.StripPrefix("/registry", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, reg
}

func client(t *testing.T, srv *httptest.Server) *sr.Client {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(srv.URL + "/registry"))
	if err != nil {
		t.Fatal(err)
	}
	return cl
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

// code returns the Confluent error code of a failed sr call.
func code(t *testing.T, err error) int {
	t.Helper()
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want an *sr.ResponseError", err)
	}
	return re.ErrorCode
}

func TestClientRegisterLookupFetch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := serve(t)
	cl := client(t, srv)

	types, err := cl.SupportedTypes(ctx)
	must(t, err)
	equal(t, "types", types, []sr.SchemaType{sr.TypeAvro, sr.TypeProtobuf, sr.TypeJSON}) // the client sorts by its enum

	v1, err := cl.CreateSchema(ctx, "users-value", sr.Schema{Schema: avroV1})
	must(t, err)
	equal(t, "v1", [2]int{v1.ID, v1.Version}, [2]int{1, 1})
	v2, err := cl.CreateSchema(ctx, "users-value", sr.Schema{Schema: avroV2, Type: sr.TypeAvro})
	must(t, err)
	equal(t, "v2", [2]int{v2.ID, v2.Version}, [2]int{2, 2})
	// The same schema under another subject shares the id; again under
	// the same subject is idempotent.
	other, err := cl.RegisterSchema(ctx, "audit-value", sr.Schema{Schema: avroV1}, -1, -1)
	must(t, err)
	equal(t, "shared id", other, 1)
	again, err := cl.RegisterSchema(ctx, "users-value", sr.Schema{Schema: avroV1}, -1, -1)
	must(t, err)
	equal(t, "idempotent id", again, 1)
	j, err := cl.CreateSchema(ctx, "orders-value", sr.Schema{Schema: jsonA, Type: sr.TypeJSON})
	must(t, err)
	equal(t, "json", [3]any{j.ID, j.Version, j.Type}, [3]any{3, 1, sr.TypeJSON})

	got, err := cl.LookupSchema(ctx, "users-value", sr.Schema{Schema: avroV2})
	must(t, err)
	equal(t, "lookup", [3]any{got.Subject, got.ID, got.Version}, [3]any{"users-value", 2, 2})
	_, err = cl.LookupSchema(ctx, "users-value", sr.Schema{Schema: jsonA, Type: sr.TypeJSON})
	equal(t, "lookup of a schema not under the subject", code(t, err), 40403)
	_, err = cl.LookupSchema(ctx, "nobody", sr.Schema{Schema: avroV1})
	equal(t, "lookup in a missing subject", code(t, err), 40401)

	byID, err := cl.SchemaByID(ctx, 3)
	must(t, err)
	equal(t, "by id", [2]any{byID.Schema, byID.Type}, [2]any{jsonA, sr.TypeJSON})
	text, err := cl.SchemaTextByID(ctx, 1)
	must(t, err)
	equal(t, "text by id", text, avroV1)
	_, err = cl.SchemaByID(ctx, 99)
	equal(t, "missing id", code(t, err), 40403)
	subjects, err := cl.SubjectsByID(ctx, 1)
	must(t, err)
	equal(t, "subjects by id", subjects, []string{"audit-value", "users-value"})
	svs, err := cl.SchemaVersionsByID(ctx, 1)
	must(t, err)
	equal(t, "versions by id", svs, []sr.SubjectVersion{{Subject: "audit-value", Version: 1}, {Subject: "users-value", Version: 1}})

	all, err := cl.Subjects(ctx)
	must(t, err)
	equal(t, "subjects", all, []string{"audit-value", "orders-value", "users-value"})
	versions, err := cl.SubjectVersions(ctx, "users-value")
	must(t, err)
	equal(t, "versions", versions, []int{1, 2})
	latest, err := cl.SchemaByVersion(ctx, "users-value", -1)
	must(t, err)
	equal(t, "latest", [3]any{latest.Version, latest.ID, latest.Schema.Schema}, [3]any{2, 2, avroV2})
	first, err := cl.SchemaTextByVersion(ctx, "users-value", 1)
	must(t, err)
	equal(t, "version 1 text", first, avroV1)
	_, err = cl.SchemaByVersion(ctx, "users-value", 7)
	equal(t, "missing version", code(t, err), 40402)
	_, err = cl.SchemaByVersion(ctx, "nobody", 1)
	equal(t, "missing subject", code(t, err), 40401)
	schemas, err := cl.Schemas(ctx, "users-value")
	must(t, err)
	equal(t, "schemas of a subject", len(schemas), 2)
	everything, err := cl.AllSchemas(ctx)
	must(t, err)
	equal(t, "all schemas", len(everything), 4)
	latestOnly, err := cl.AllSchemas(sr.WithParams(ctx, sr.LatestOnly, sr.SubjectPrefix("users")))
	must(t, err)
	equal(t, "latest only, by prefix", [3]any{len(latestOnly), latestOnly[0].Subject, latestOnly[0].Version}, [3]any{1, "users-value", 2})
	refs, err := cl.SchemaReferences(ctx, "users-value", 1)
	must(t, err)
	equal(t, "references", len(refs), 0)
	contexts, err := cl.Contexts(ctx)
	must(t, err)
	equal(t, "contexts", contexts, []string{"."})
}

func TestClientIncompatibleRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := serve(t)
	cl := client(t, srv)
	_, err := cl.CreateSchema(ctx, "users-value", sr.Schema{Schema: avroV1})
	must(t, err)

	res, err := cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), "users-value", -1, sr.Schema{Schema: avroBad})
	must(t, err)
	if res.Is || len(res.Messages) == 0 || !strings.Contains(strings.Join(res.Messages, " "), "age") {
		t.Fatalf("verbose check of an incompatible schema = %+v, want false with messages naming the field", res)
	}
	res, err = cl.CheckCompatibility(ctx, "users-value", -2, sr.Schema{Schema: avroV2})
	must(t, err)
	if !res.Is {
		t.Fatalf("check of a compatible schema against all versions = %+v", res)
	}
	res, err = cl.CheckCompatibility(ctx, "users-value", 1, sr.Schema{Schema: avroBad})
	must(t, err)
	equal(t, "check against version 1", res.Is, false)
	_, err = cl.CheckCompatibility(ctx, "nobody", -1, sr.Schema{Schema: avroBad})
	equal(t, "check against a missing subject's latest", code(t, err), 40401)

	_, err = cl.RegisterSchema(ctx, "users-value", sr.Schema{Schema: avroBad}, -1, -1)
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict || re.ErrorCode != 409 {
		t.Fatalf("incompatible registration: %v, want 409 / 409", err)
	}
	if !strings.Contains(re.Message, "incompatible") || !strings.Contains(re.Message, "age") {
		t.Fatalf("refusal does not give the reasons: %q", re.Message)
	}
	_, err = cl.RegisterSchema(ctx, "users-value", sr.Schema{Schema: `{"type":"record"}`}, -1, -1)
	equal(t, "invalid schema", code(t, err), 42201)
	_, err = cl.RegisterSchema(ctx, "users-value", sr.Schema{Schema: `syntax = "proto3";`, Type: sr.TypeProtobuf}, -1, -1)
	equal(t, "protobuf", code(t, err), 42201)
}

func TestClientConfigAndMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := serve(t)
	cl := client(t, srv)

	global := cl.Compatibility(ctx)
	must(t, global[0].Err)
	equal(t, "default global level", global[0].Level, sr.CompatBackward)
	sub := cl.Compatibility(ctx, "users-value")
	equal(t, "unset subject level", code(t, sub[0].Err), 40408)
	sub = cl.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), "users-value")
	must(t, sub[0].Err)
	equal(t, "subject level defaulting to global", sub[0].Level, sr.CompatBackward)

	set := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, "users-value")
	must(t, set[0].Err)
	set = cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatFullTransitive})
	must(t, set[0].Err)
	sub = cl.Compatibility(ctx, "users-value")
	must(t, sub[0].Err)
	equal(t, "subject level", sub[0].Level, sr.CompatNone)
	global = cl.Compatibility(ctx)
	must(t, global[0].Err)
	equal(t, "global level", global[0].Level, sr.CompatFullTransitive)
	// NONE lets the incompatible schema in.
	_, err := cl.CreateSchema(ctx, "users-value", sr.Schema{Schema: avroV1})
	must(t, err)
	_, err = cl.CreateSchema(ctx, "users-value", sr.Schema{Schema: avroBad})
	must(t, err)
	reset := cl.ResetCompatibility(ctx, "users-value")
	must(t, reset[0].Err)
	equal(t, "reset answers the old level", reset[0].Level, sr.CompatNone)

	modes := cl.Mode(ctx)
	must(t, modes[0].Err)
	equal(t, "default mode", modes[0].Mode, sr.ModeReadWrite)
	setMode := cl.SetMode(ctx, sr.ModeReadOnly, "users-value")
	must(t, setMode[0].Err)
	equal(t, "set mode echo", setMode[0].Mode, sr.ModeReadOnly)
	modes = cl.Mode(ctx, "users-value")
	must(t, modes[0].Err)
	equal(t, "subject mode", modes[0].Mode, sr.ModeReadOnly)
	_, err = cl.CreateSchema(ctx, "users-value", sr.Schema{Schema: avroV2})
	equal(t, "register in READONLY", code(t, err), 42205)
	_, err = cl.DeleteSubject(ctx, "users-value", sr.SoftDelete)
	equal(t, "delete in READONLY", code(t, err), 42205)
	resetMode := cl.ResetMode(ctx, "users-value")
	must(t, resetMode[0].Err)
	modes = cl.Mode(ctx, "users-value")
	equal(t, "subject mode after reset", code(t, modes[0].Err), 40409)
	// Writable again, and the subject now inherits the global
	// FULL_TRANSITIVE: v2 does not write age, which the registered bad
	// version reads without a default, so v2 is refused.
	_, err = cl.CreateSchema(ctx, "users-value", sr.Schema{Schema: avroV2})
	equal(t, "register under the inherited global level", code(t, err), 409)
}

func TestClientDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := serve(t)
	cl := client(t, srv)
	for _, s := range []string{avroV1, avroV2} {
		_, err := cl.CreateSchema(ctx, "users-value", sr.Schema{Schema: s})
		must(t, err)
	}
	err := cl.DeleteSchema(ctx, "users-value", 1, sr.HardDelete)
	equal(t, "hard delete before soft", code(t, err), 40407)
	must(t, cl.DeleteSchema(ctx, "users-value", 1, sr.SoftDelete))
	err = cl.DeleteSchema(ctx, "users-value", 1, sr.SoftDelete)
	equal(t, "soft delete twice", code(t, err), 40406)
	versions, err := cl.SubjectVersions(ctx, "users-value")
	must(t, err)
	equal(t, "live versions", versions, []int{2})
	_, err = cl.SchemaByVersion(ctx, "users-value", 1)
	equal(t, "soft-deleted version", code(t, err), 40402)
	deleted, err := cl.SchemaByVersion(sr.WithParams(ctx, sr.ShowDeleted), "users-value", 1)
	must(t, err)
	equal(t, "soft-deleted version with deleted=true", deleted.Schema.Schema, avroV1)
	must(t, cl.DeleteSchema(ctx, "users-value", 1, sr.HardDelete))

	_, err = cl.DeleteSubject(ctx, "users-value", sr.HardDelete)
	equal(t, "hard delete of a live subject", code(t, err), 40405)
	gone, err := cl.DeleteSubject(ctx, "users-value", sr.SoftDelete)
	must(t, err)
	equal(t, "soft-deleted versions", gone, []int{2})
	subjects, err := cl.Subjects(ctx)
	must(t, err)
	equal(t, "subjects after soft delete", subjects, []string{})
	subjects, err = cl.Subjects(sr.WithParams(ctx, sr.ShowDeleted))
	must(t, err)
	equal(t, "subjects with deleted", subjects, []string{"users-value"})
	_, err = cl.DeleteSubject(ctx, "users-value", sr.SoftDelete)
	equal(t, "soft delete twice", code(t, err), 40404)
	gone, err = cl.DeleteSubject(ctx, "users-value", sr.HardDelete)
	must(t, err)
	equal(t, "hard-deleted versions", gone, []int{2})
	_, err = cl.DeleteSubject(ctx, "users-value", sr.SoftDelete)
	equal(t, "deleting a missing subject", code(t, err), 40401)
	// Ids outlive their subjects, as in Confluent.
	s, err := cl.SchemaByID(ctx, 2)
	must(t, err)
	equal(t, "schema after its subject's hard delete", s.Schema, avroV2)
}

// TestWire checks what a client library hides: status codes, content
// types, error bodies and the raw /schema endpoints.
func TestWire(t *testing.T) {
	t.Parallel()
	srv, _ := serve(t)
	base := srv.URL + "/registry"
	guidA := registry.GUID(schema.FormatJSON, jsonA, "", "")
	guidAMeta := registry.GUID(schema.FormatJSON, jsonA, "", `{"properties":{"owner":"x"}}`)
	var shuffled map[string]any
	must(t, json.Unmarshal([]byte(jsonA), &shuffled))
	b, err := json.Marshal(shuffled) // keys sorted: another order than jsonA's
	must(t, err)
	jsonAShuffled := string(b)
	if jsonAShuffled == jsonA {
		t.Fatal("jsonA must not have its keys sorted")
	}
	tests := []struct {
		name, method, path, contentType, body string
		wantStatus                            int
		wantBody                              string // JSON compared after compaction, or raw text
	}{
		{"register", "POST", "/subjects/a/versions", registryapi.ContentType, `{"schema":` + quote(jsonA) + `,"schemaType":"JSON"}`, 200, `{"version":1,"id":1,"guid":"` + guidA + `","schemaType":"JSON","schema":` + quote(jsonA) + `}`},
		{"register with application/json", "POST", "/subjects/b/versions", "application/json", `{"schema":` + quote(jsonA) + `,"schemaType":"JSON"}`, 200, `{"version":1,"id":1,"guid":"` + guidA + `","schemaType":"JSON","schema":` + quote(jsonA) + `}`},
		{"lookup in another key order", "POST", "/subjects/a", registryapi.ContentType, `{"schema":` + quote(jsonAShuffled) + `,"schemaType":"JSON"}`, 200, `{"subject":"a","version":1,"id":1,"guid":"` + guidA + `","schemaType":"JSON","schema":` + quote(jsonA) + `}`},
		{"lookup of an unknown schema", "POST", "/subjects/a", registryapi.ContentType, `{"schema":"{\"type\":\"string\"}","schemaType":"JSON"}`, 404, `{"error_code":40403}`},
		{"version", "GET", "/subjects/a/versions/1", "", "", 200, `{"subject":"a","version":1,"id":1,"guid":"` + guidA + `","schemaType":"JSON","schema":` + quote(jsonA) + `}`},
		{"version, format ignored for JSON", "GET", "/subjects/a/versions/1?format=serialized", "", "", 200, `{"subject":"a","version":1,"id":1,"guid":"` + guidA + `","schemaType":"JSON","schema":` + quote(jsonA) + `}`},
		{"latest schema raw", "GET", "/subjects/a/versions/latest/schema", "", "", 200, jsonA},
		{"schema raw by id", "GET", "/schemas/ids/1/schema", "", "", 200, jsonA},
		{"by id", "GET", "/schemas/ids/1", "", "", 200, `{"guid":"` + guidA + `","schemaType":"JSON","schema":` + quote(jsonA) + `}`},
		{"register with metadata", "POST", "/subjects/m/versions", registryapi.ContentType, `{"schema":` + quote(jsonA) + `,"schemaType":"JSON","metadata":{"properties":{"owner":"x"}}}`, 200, `{"version":1,"id":2,"guid":"` + guidAMeta + `","schemaType":"JSON","schema":` + quote(jsonA) + `,"metadata":{"properties":{"owner":"x"}}}`},
		{"latest with metadata", "GET", "/subjects/m/metadata?key=owner&value=x", "", "", 200, `{"subject":"m","version":1,"id":2,"guid":"` + guidAMeta + `","schemaType":"JSON","schema":` + quote(jsonA) + `,"metadata":{"properties":{"owner":"x"}}}`},
		{"latest with other metadata", "GET", "/subjects/m/metadata?key=owner&value=y", "", "", 404, `{"error_code":40402}`},
		{"unsupported config setting", "PUT", "/config", registryapi.ContentType, `{"compatibility":"FULL","defaultRuleSet":{"domainRules":[]}}`, 422, `{"error_code":42203}`},
		{"config setting at its default", "PUT", "/config/z", registryapi.ContentType, `{"compatibility":"NONE","normalize":false,"defaultMetadata":null}`, 200, `{"compatibility":"NONE"}`},
		{"invalid rule set", "POST", "/subjects/a/versions", registryapi.ContentType, `{"schema":` + quote(jsonA) + `,"schemaType":"JSON","ruleSet":{"domainRules":[{"name":"1x","type":"CEL"}]}}`, 422, `{"error_code":42210}`},
		{"by guid", "GET", "/schemas/guids/" + registry.GUID(schema.FormatJSON, jsonA, "", ""), "", "", 200, `{"id":1,"guid":"` + registry.GUID(schema.FormatJSON, jsonA, "", "") + `","schemaType":"JSON","schema":` + quote(jsonA) + `}`},
		{"by guid, upper case", "GET", "/schemas/guids/" + strings.ToUpper(registry.GUID(schema.FormatJSON, jsonA, "", "")), "", "", 200, `{"id":1,"guid":"` + registry.GUID(schema.FormatJSON, jsonA, "", "") + `","schemaType":"JSON","schema":` + quote(jsonA) + `}`},
		{"unknown guid", "GET", "/schemas/guids/00000000-0000-8000-8000-000000000000", "", "", 404, `{"error_code":40403}`},
		{"bad version", "GET", "/subjects/a/versions/zero", "", "", 422, `{"error_code":42202}`},
		{"missing subject", "GET", "/subjects/zz/versions", "", "", 404, `{"error_code":40401}`},
		{"invalid schema", "POST", "/subjects/a/versions", registryapi.ContentType, `{"schema":"{"}`, 422, `{"error_code":42201}`},
		{"not json body", "POST", "/subjects/a/versions", registryapi.ContentType, `nope`, 422, `{"error_code":42201}`},
		{"body over 4 MiB", "POST", "/subjects/a/versions", registryapi.ContentType, `{"schema":"` + strings.Repeat(" ", 4<<20) + `{}","schemaType":"JSON"}`, 422, `{"error_code":42201,"message":"request body over 4194304 bytes"}`},
		{"references refused", "POST", "/subjects/a/versions", registryapi.ContentType, `{"schema":"{}","schemaType":"JSON","references":[{"name":"x","subject":"y","version":1}]}`, 422, `{"error_code":42201}`},
		{"bad level", "PUT", "/config", registryapi.ContentType, `{"compatibility":"SIDEWAYS"}`, 422, `{"error_code":42203}`},
		{"put config echoes", "PUT", "/config/a", registryapi.ContentType, `{"compatibility":"full"}`, 200, `{"compatibility":"FULL"}`},
		{"get config", "GET", "/config/a", "", "", 200, `{"compatibilityLevel":"FULL"}`},
		{"bad mode", "PUT", "/mode", registryapi.ContentType, `{"mode":"SIDEWAYS"}`, 422, `{"error_code":42204}`},
		{"wrong content type", "POST", "/subjects/a/versions", "text/plain", `{}`, 415, `{"error_code":415}`},
		{"unknown path", "GET", "/nowhere", "", "", 404, `{"error_code":404}`},
		{"wrong method", "PATCH", "/subjects", "", "", 405, `{"error_code":405}`},
		{"compat verbose", "POST", "/compatibility/subjects/a/versions/latest?verbose=true", registryapi.ContentType, `{"schema":` + quote(jsonA) + `,"schemaType":"JSON"}`, 200, `{"is_compatible":true,"messages":[]}`},
		{"types", "GET", "/schemas/types", "", "", 200, `["JSON","AVRO","PROTOBUF"]`},
	}
	for _, tc := range tests { // in order: later cases read what earlier ones wrote
		req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		must(t, err)
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		must(t, err)
		if resp.StatusCode != tc.wantStatus {
			t.Errorf("%s: status %d (%s), want %d", tc.name, resp.StatusCode, b, tc.wantStatus)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != registryapi.ContentType {
			t.Errorf("%s: content type %q", tc.name, ct)
		}
		if strings.Contains(tc.wantBody, "error_code") {
			var got, want map[string]any
			must(t, json.Unmarshal(b, &got))
			must(t, json.Unmarshal([]byte(tc.wantBody), &want))
			if got["error_code"] != want["error_code"] || got["message"] == "" {
				t.Errorf("%s: body %s, want error_code %v and a message", tc.name, b, want["error_code"])
			}
			if msg, ok := want["message"].(string); ok && !strings.Contains(got["message"].(string), msg) {
				t.Errorf("%s: message %q, want it to say %q", tc.name, got["message"], msg)
			}
			continue
		}
		if got := strings.TrimSpace(string(b)); got != tc.wantBody {
			t.Errorf("%s: body\n got %s\nwant %s", tc.name, got, tc.wantBody)
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestClientRuleSet: a data-contract ruleSet registered through franz-go's
// client is stored with its version and read back as sent; other rules for
// the same text are a new version under a new id (as in Confluent, where
// the id names schema and rules); a rule set that is not well formed, or a
// CEL condition that does not compile, is 42210; rules the gateway does not
// run are stored for clients.
func TestClientRuleSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := serve(t)
	cl := client(t, srv)

	const ts = `{"type":"object","properties":{"timestamp":{"type":"string"}}}`
	rs := &sr.SchemaRuleSet{DomainRules: []sr.SchemaRule{{
		Name: "future_timestamp_check", Kind: sr.SchemaRuleKindCondition, Mode: sr.SchemaRuleModeWrite, Type: "CEL",
		Expr:      "timestamp(message.timestamp) <= now",
		Params:    map[string]string{"message": "Timestamp cannot be in future", "field": "/timestamp"},
		OnFailure: "DLQ",
	}}}
	v1, err := cl.CreateSchema(ctx, "events-value", sr.Schema{Schema: ts, Type: sr.TypeJSON})
	must(t, err)
	v2, err := cl.CreateSchema(ctx, "events-value", sr.Schema{Schema: ts, Type: sr.TypeJSON, SchemaRuleSet: rs})
	must(t, err)
	if v2.Version != 2 || v2.ID == v1.ID {
		t.Fatalf("with rules: version %d id %d, want version 2 and an id other than %d", v2.Version, v2.ID, v1.ID)
	}
	equal(t, "rule set returned", v2.SchemaRuleSet, rs)
	again, err := cl.CreateSchema(ctx, "events-value", sr.Schema{Schema: ts, Type: sr.TypeJSON, SchemaRuleSet: rs})
	must(t, err)
	equal(t, "same rules again", again.Version, 2)

	got, err := cl.SchemaByVersion(ctx, "events-value", 2)
	must(t, err)
	equal(t, "GET version 2", got.SchemaRuleSet, rs)
	byID, err := cl.SchemaByID(ctx, v2.ID)
	must(t, err)
	equal(t, "GET /schemas/ids", byID.SchemaRuleSet, rs)
	got, err = cl.SchemaByVersion(ctx, "events-value", 1)
	must(t, err)
	if got.SchemaRuleSet != nil {
		t.Fatalf("version 1 has rule set %+v, want none", got.SchemaRuleSet)
	}

	for name, bad := range map[string]sr.SchemaRule{
		"compile error": {Name: "bad", Kind: sr.SchemaRuleKindCondition, Mode: sr.SchemaRuleModeRead, Type: "CEL", Expr: "message.n >"},
		"no type":       {Name: "enc", Kind: sr.SchemaRuleKindTransform, Mode: sr.SchemaRuleModeWriteRead},
	} {
		_, err := cl.CreateSchema(ctx, "events-value", sr.Schema{Schema: ts, Type: sr.TypeJSON, SchemaRuleSet: &sr.SchemaRuleSet{DomainRules: []sr.SchemaRule{bad}}})
		if code(t, err) != 42210 || !strings.Contains(err.Error(), "domainRules[0] ("+bad.Name+")") {
			t.Fatalf("%s: err = %v, want 42210 naming the rule", name, err)
		}
	}
	versions, err := cl.SubjectVersions(ctx, "events-value")
	must(t, err)
	equal(t, "versions after refusals", versions, []int{1, 2})

	// A JSONATA migration rule and an encryption rule are stored for the
	// clients that run them.
	forClients := &sr.SchemaRuleSet{
		MigrationRules: []sr.SchemaRule{{Name: "up", Kind: sr.SchemaRuleKindTransform, Mode: sr.SchemaRuleModeUpgrade, Type: "JSONATA", Expr: "$"}},
		DomainRules:    []sr.SchemaRule{{Name: "enc", Kind: sr.SchemaRuleKindTransform, Mode: sr.SchemaRuleModeWriteRead, Type: "ENCRYPT", Tags: []string{"PII"}}},
	}
	v3, err := cl.CreateSchema(ctx, "events-value", sr.Schema{Schema: ts, Type: sr.TypeJSON, SchemaRuleSet: forClients})
	must(t, err)
	equal(t, "rules for clients stored", v3.SchemaRuleSet, forClients)
}
