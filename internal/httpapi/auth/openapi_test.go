package auth_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
)

// TestOpenAPIRolesAreEnforced: the role openapi.json promises for each
// operation (x-required-role) is the role the middleware requires.
func TestOpenAPIRolesAreEnforced(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../openapi.json")
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]struct {
			Role string `json:"x-required-role"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	param := regexp.MustCompile(`\{[^}]+\}`)
	for path, ops := range doc.Paths {
		concrete := param.ReplaceAllString(path, "x")
		for method, op := range ops {
			require.Equal(t, op.Role, auth.RequiredRole(strings.ToUpper(method), concrete), "%s %s", method, path)
		}
	}
}
