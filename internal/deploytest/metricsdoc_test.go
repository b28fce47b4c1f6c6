package deploytest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMetricsDocumented checks docs/metrics.md lists every metric the
// gateway exports (scraped, or registered by the pipeline), and every metric
// the alerts and the dashboard use.
func TestMetricsDocumented(t *testing.T) {
	doc := string(ReadFile(t, "docs/metrics.md"))
	exportedSection, _, ok := strings.Cut(doc, "## Queries")
	require.True(t, ok, "docs/metrics.md has no Queries section")
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_:]+)`").FindAllStringSubmatch(exportedSection, -1) {
		documented[m[1]] = true
	}
	base := func(name string) string {
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, s); ok && documented[b] {
				return b
			}
		}
		return name
	}
	runtime := func(name string) bool {
		return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_")
	}

	for name := range scrapeGatewayOnce(t) {
		if !runtime(name) {
			require.True(t, documented[base(name)], "the gateway exports %s; document it in docs/metrics.md", name)
		}
	}
	used := []string{}
	_, _, queries := loadDashboard(t)
	for _, q := range queries {
		used = append(used, MetricNames(q.Expr)...)
	}
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			used = append(used, MetricNames(r.Expr)...)
		}
	}
	for _, name := range used {
		if name != "up" {
			require.True(t, documented[base(name)], "%s is used by a panel or alert but not in docs/metrics.md", name)
		}
	}
}
