package registryapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/httpapi/registryapi"
)

// FuzzRegister: no request body makes the API fail with a store error or
// panic; whatever it refuses, it refuses as the client's fault (4xx).
func FuzzRegister(f *testing.F) {
	for _, seed := range []string{
		`{"schema":` + quote(avroV1) + `}`,
		`{"schema":` + quote(jsonA) + `,"schemaType":"JSON"}`,
		`{"schema":"\"string\"","schemaType":"avro"}`,
		`{"schema":"{}","schemaType":"PROTOBUF"}`,
		`{"schema":"{","id":-1,"version":-1}`,
		`[]`, `null`, ``,
	} {
		f.Add(seed)
	}
	srv, _ := serve(f) // one registry across inputs: they build on each other
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/subjects/s/versions", "/subjects/s", "/compatibility/subjects/s/versions"} {
			req := httptest.NewRequest(http.MethodPost, "/registry"+path, strings.NewReader(body))
			req.Header.Set("Content-Type", registryapi.ContentType)
			rec := httptest.NewRecorder()
			srv.Config.Handler.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
			}
		}
	})
}
