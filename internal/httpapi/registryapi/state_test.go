package registryapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/httpapi/registryapi"
	"github.com/dataquarantine/dataquarantine/internal/registry"
)

func TestState(t *testing.T) {
	t.Parallel()
	_, reg := serve(t)
	h, err := registryapi.New(registryapi.Options{Registry: reg})
	must(t, err)
	srv := httptest.NewServer(h.StateHandler())
	t.Cleanup(srv.Close)
	_, err = reg.Register(context.Background(), registry.RegisterRequest{Subject: "s", Schema: avroV1})
	must(t, err)

	tests := []struct {
		name, path, body string
		wantStatus       int
		want             string // a substring of the body
	}{
		{"enforce", "/api/v1/schemas/s/versions/1/state", `{"state":"enforced"}`, 200, `"state":"enforced"`},
		{"deprecate latest", "/api/v1/schemas/s/versions/latest/state", `{"state":"deprecated"}`, 200, `"state":"deprecated"`},
		{"bad state", "/api/v1/schemas/s/versions/1/state", `{"state":"live"}`, 400, `"code":"invalid_parameter"`},
		{"bad body", "/api/v1/schemas/s/versions/1/state", `{`, 400, `"code":"invalid_parameter"`},
		{"missing version", "/api/v1/schemas/s/versions/9/state", `{"state":"enforced"}`, 404, `"code":"not_found"`},
		{"missing subject", "/api/v1/schemas/x/versions/1/state", `{"state":"enforced"}`, 404, `"code":"not_found"`},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(http.MethodPut, srv.URL+tc.path, strings.NewReader(tc.body))
		must(t, err)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		must(t, err)
		if resp.StatusCode != tc.wantStatus || !strings.Contains(string(b), tc.want) || !json.Valid(b) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, resp.StatusCode, b, tc.wantStatus, tc.want)
		}
		// The gateway's API, not the Confluent-compatible one: its media type.
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q, want the gateway API's", tc.name, ct)
		}
	}
	got, err := reg.Get(context.Background(), "s", 1, false)
	must(t, err)
	if got.State != registry.StateDeprecated {
		t.Fatalf("stored state %q, want deprecated", got.State)
	}
}
