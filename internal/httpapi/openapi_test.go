package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// documentedElsewhere are /api/v1 routes the OpenAPI document describes
// that this package's mux does not serve: registryapi serves the schema
// state on the same root, and the reprocessing, audit and live-event
// endpoints are being built on other branches. Remove an entry once its
// route is registered here; the test then checks it like the others.
var documentedElsewhere = []string{
	"PUT /api/v1/schemas/{subject}/versions/{version}/state", // registryapi.StatePattern (which imports this package)
	"GET /api/v1/events",
}

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		Schemas         map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	OperationID  string `json:"operationId"`
	RequiredRole string `json:"x-required-role"`
	Parameters   []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	require.NoError(t, json.Unmarshal(openAPI, &doc))
	return doc
}

// documentedRoutes lists the document's operations as ServeMux patterns.
func documentedRoutes(t *testing.T, doc openAPIDoc) []string {
	t.Helper()
	var out []string
	for path, ops := range doc.Paths {
		for method := range ops {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDocument checks the document's structure: OpenAPI 3.1, both
// security schemes, and every operation with an id, a known required role,
// responses and exactly its path's parameters; every component schema
// compiles as JSON Schema 2020-12 and every $ref resolves.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	require.Regexp(t, `^3\.1\.\d+$`, doc.OpenAPI)
	require.Contains(t, doc.Components.SecuritySchemes, "bearer")
	require.Contains(t, doc.Components.SecuritySchemes, "session")
	ids := map[string]bool{}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for path, ops := range doc.Paths {
		require.True(t, strings.HasPrefix(path, "/api/v1/"), path)
		var want []string
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		for method, raw := range ops {
			require.Contains(t, []string{"get", "put", "post", "delete", "patch"}, method, path)
			var op operation
			require.NoError(t, json.Unmarshal(raw, &op))
			name := method + " " + path
			require.NotEmpty(t, op.OperationID, name)
			require.False(t, ids[op.OperationID], "operationId %s used twice", op.OperationID)
			ids[op.OperationID] = true
			require.Contains(t, []string{"viewer", "operator", "admin"}, op.RequiredRole, name)
			require.NotEmpty(t, op.Responses, name)
			var got []string
			for _, p := range op.Parameters {
				if p.In == "path" {
					got = append(got, p.Name)
				}
			}
			require.ElementsMatch(t, want, got, "path parameters of %s", name)
		}
	}

	c := jsonschema.NewCompiler()
	var whole any
	require.NoError(t, json.Unmarshal(openAPI, &whole))
	const base = "https://dataquarantine.invalid/openapi.json"
	require.NoError(t, c.AddResource(base, whole))
	for name := range doc.Components.Schemas {
		_, err := c.Compile(base + "#/components/schemas/" + name)
		require.NoError(t, err, "components.schemas.%s", name)
	}
	for _, ref := range regexp.MustCompile(`"\$ref": "#/([^"]+)"`).FindAllStringSubmatch(string(openAPI), -1) {
		node := whole
		for _, part := range strings.Split(ref[1], "/") {
			m, ok := node.(map[string]any)
			require.True(t, ok, "$ref #/%s", ref[1])
			node, ok = m[part]
			require.True(t, ok, "$ref #/%s does not resolve", ref[1])
		}
	}
}

// TestOpenAPICoversRoutes: every /api/v1 route of the mux is documented,
// and every documented route is served (here, or by a handler listed in
// documentedElsewhere).
func TestOpenAPICoversRoutes(t *testing.T) {
	t.Parallel()
	h, err := New(Options{Quarantine: stubReader{}, Payloads: stubReader{}, Stats: stubStats{}, Metrics: http.NotFoundHandler()})
	require.NoError(t, err)
	var served []string
	for _, p := range h.(*api).mux.patterns {
		if _, path, _ := strings.Cut(p, " "); strings.HasPrefix(path, "/api/v1/") {
			served = append(served, p)
		}
	}
	require.Contains(t, served, "GET /api/v1/openapi.json")
	documented := documentedRoutes(t, loadOpenAPI(t))
	for _, p := range served {
		require.Contains(t, documented, p, "route %s is not in openapi.json", p)
		require.NotContains(t, documentedElsewhere, p, "%s is served here now: drop it from documentedElsewhere", p)
	}
	for _, p := range documented {
		if !slices.Contains(served, p) {
			require.Contains(t, documentedElsewhere, p, "openapi.json documents %s, which nothing serves", p)
		}
	}
	for _, p := range documentedElsewhere {
		require.Contains(t, documented, p, "documentedElsewhere lists %s, which openapi.json does not document", p)
	}
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	h, err := New(Options{Quarantine: stubReader{}, Payloads: stubReader{}, Stats: stubStats{}})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", http.NoBody))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	require.JSONEq(t, string(openAPI), rec.Body.String())
}

type stubReader struct{}

func (stubReader) Get(context.Context, string) (quarantine.Entry, error) {
	return quarantine.Entry{}, quarantine.ErrNotFound
}

func (stubReader) List(context.Context, quarantine.Filter) (quarantine.Page, error) {
	return quarantine.Page{}, nil
}

func (stubReader) Count(context.Context, quarantine.Filter) (int64, error) { return 0, nil }

func (stubReader) Read(context.Context, quarantine.PayloadRef) (quarantine.Payload, error) {
	return quarantine.Payload{}, quarantine.ErrNotFound
}

type stubStats struct{}

func (stubStats) Stats() Stats { return Stats{} }
