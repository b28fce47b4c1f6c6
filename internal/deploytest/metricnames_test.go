package deploytest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, expr string
		want       []string
	}{
		{"bare", `up`, []string{"up"}},
		{"matchers and range", `rate(records_valid_total{topic=~"$topic",subject="a b"}[$__rate_interval])`, []string{"records_valid_total"}},
		{"ratio with grouping", `sum by (topic) (rate(a_total[5m])) / sum without (le) (rate(b_total[5m])) < 0.95`, []string{"a_total", "b_total"}},
		{"histogram", `histogram_quantile(0.99, sum by (topic, le) (rate(validation_duration_seconds_bucket[5m]))) > 0.05`, []string{"validation_duration_seconds_bucket"}},
		{"vector matching", `x / on(instance) group_left(version) y`, []string{"x", "y"}},
		{"keywords and numbers", `a and b or c unless d > bool 1e3`, []string{"a", "b", "c", "d"}},
		{"offset", `increase(c_total[1h] offset 1d)`, []string{"c_total"}},
		{"label in string only", `count by (version) (dataquarantine_build_info{version="up"})`, []string{"dataquarantine_build_info"}},
		{"no metric", `vector(1)`, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, MetricNames(tc.expr))
		})
	}
}

func TestExpositionNames(t *testing.T) {
	t.Parallel()
	names, err := ExpositionNames("# HELP a_total x\n# TYPE a_total counter\na_total{topic=\"t\"} 1\nb 2\n")
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"a_total": true, "b": true}, names)
	_, err = ExpositionNames("# only comments\n")
	require.Error(t, err)
	_, err = ExpositionNames("{bad} 1\n")
	require.Error(t, err)
}
