package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI describes every /api/v1 endpoint, the ones served here and those
// served by other handlers on the same root (registryapi's schema state);
// a test keeps it and the routes in step.
//
//go:embed openapi.json
var openAPI []byte

func (a *api) getOpenAPI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPI)
}

// routeMux is a ServeMux that remembers its patterns, so that tests can
// compare them with the OpenAPI document.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}
