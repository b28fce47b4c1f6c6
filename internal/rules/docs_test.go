package rules_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// docExamples returns the rule lists of docs/rules.md: every yaml block
// that starts with "rules:".
func docExamples(t *testing.T) [][]rules.Spec {
	t.Helper()
	doc, err := os.ReadFile("../../docs/rules.md")
	require.NoError(t, err)
	var out [][]rules.Spec
	rest := string(doc)
	for {
		_, block, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			break
		}
		block, rest, ok = strings.Cut(block, "```\n")
		require.True(t, ok, "unterminated yaml block")
		if !strings.HasPrefix(block, "rules:\n") {
			continue
		}
		var file struct {
			Rules []rules.Spec `yaml:"rules"`
		}
		dec := yaml.NewDecoder(strings.NewReader(block))
		dec.KnownFields(true)
		require.NoError(t, dec.Decode(&file), block)
		require.NotEmpty(t, file.Rules)
		out = append(out, file.Rules)
	}
	require.GreaterOrEqual(t, len(out), 6, "examples: ranges, cross-field, timestamps, strings, optional, lists")
	return out
}

// TestDocsExamples: every example in docs/rules.md compiles, and a record
// that satisfies them all passes every one, so the examples mean what the
// page says.
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	good := decode(t, `{
		"user_id": "USER123456", "email": "ada@example.com", "event_type": "purchase",
		"timestamp": "2026-11-20T11:30:00Z", "starts_at": "2026-11-20T00:00:00Z", "ends_at": "2026-11-21T00:00:00+01:00",
		"amount": 249.99, "quantity": 2, "price": 10, "discount": 2.5, "currency": "EUR",
		"page": "/products/espresso", "coupon": "C-AB12CD34",
		"items": [{"quantity": 1, "price": 9.5}, {"quantity": 3, "price": 0}],
		"metadata": {"browser": "firefox", "campaign": "winter-sale"}
	}`)
	for _, specs := range docExamples(t) {
		t.Run(specs[0].Name, func(t *testing.T) {
			t.Parallel()
			s, err := rules.Compile(specs, rules.Options{})
			require.NoError(t, err)
			require.Empty(t, s.Eval(good, now, nil))
		})
	}
}
