package auth

import (
	"net/http"
	"strings"
)

// The roles, in increasing power: each includes the ones before it.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// rank orders the roles; an unknown role ranks 0, below every requirement.
func rank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	default:
		return 0
	}
}

// Allows reports whether role includes required.
func Allows(role, required string) bool { return rank(role) > 0 && rank(role) >= rank(required) }

// access is what a route requires: nothing (public) or a role.
type access struct {
	public bool
	role   string
}

// Required returns the role a request needs, or "" for a public route.
// Reads need viewer; changes to quarantined records, reprocess runs and
// circuits need operator; schema and registry changes need admin, as does
// any change not listed (the safe default for routes added later).
func (m *Middleware) required(r *http.Request) access {
	path := r.URL.Path
	switch {
	case path == "/healthz" || path == "/readyz":
		return access{public: true}
	case path == "/metrics" && m.publicMetrics:
		return access{public: true}
	case path == loginPath || path == logoutPath:
		return access{public: true}
	}
	return access{role: RequiredRole(r.Method, path)}
}

// RequiredRole returns the role a request with method and path needs,
// public routes aside.
func RequiredRole(method, path string) string {
	if strings.HasPrefix(path, "/debug/pprof") {
		return RoleAdmin // runtime profiles, when http.pprof serves them
	}
	if safeMethod(method) {
		return RoleViewer
	}
	switch {
	case strings.HasPrefix(path, "/registry/"):
		if method == http.MethodPost && registryReadPost(strings.TrimPrefix(path, "/registry")) {
			return RoleViewer
		}
		return RoleAdmin
	case path == "/api/v1/reprocess",
		strings.HasPrefix(path, "/api/v1/quarantine/"),
		strings.HasPrefix(path, "/api/v1/circuit/"),
		// The web UI's forms for the same actions.
		strings.HasPrefix(path, "/reprocess/"),
		strings.HasPrefix(path, "/quarantine/"):
		return RoleOperator
	default:
		// PUT /api/v1/schemas/{subject}/versions/{version}/state, and
		// whatever other change exists.
		return RoleAdmin
	}
}

// registryReadPost reports whether a POST to the registry API (path
// relative to /registry) only reads: looking a schema up under a subject
// (POST /subjects/{subject}) or testing compatibility
// (POST /compatibility/...). Serializers do both with read-only rights.
func registryReadPost(path string) bool {
	if strings.HasPrefix(path, "/compatibility/") {
		return true
	}
	rest, ok := strings.CutPrefix(path, "/subjects/")
	return ok && rest != "" && !strings.Contains(strings.TrimSuffix(rest, "/"), "/")
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
