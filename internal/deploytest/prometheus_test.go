package deploytest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// corePanels must return data once the gateway has seen valid and invalid
// traffic; the others may legitimately be empty (no store errors, no
// PostgreSQL, no business rules).
var corePanels = map[string]bool{
	"Success rate":                   true,
	"Validation rate":                true,
	"Error types":                    true,
	"Invalid share":                  true,
	"Validation latency heatmap":     true,
	"Validation latency percentiles": true,
	"Batch rate":                     true,
	"Gateways up":                    true,
	"Versions":                       true,
	"Consumer lag":                   true,
	"Consumer lag by partition":      true,
	"Consumer lag over time":         true,
	"Circuit state":                  true,
}

// grafanaVars replaces the dashboard's variables as Grafana would, with
// "All" selected and intervals that suit a 1s scrape.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "10s",
	"$__interval", "2s",
	"$__range", "5m",
	"$topic", ".*",
	"$subject", ".*",
)

// prometheusServer is a real Prometheus (Debian's prometheus binary)
// scraping the shared gateway every second, with the alert rules loaded.
type prometheusServer struct {
	base string
}

func startPrometheus(t *testing.T, target string) *prometheusServer {
	t.Helper()
	rules, err := filepath.Abs(filepath.Join(RepoRoot(t), alertsFile))
	require.NoError(t, err)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: dataquarantine
    static_configs:
      - targets: [%q]
`, rules, target)
	return &prometheusServer{base: testbackend.NewPrometheusServer(t, testbackend.PrometheusOptions{Config: cfg}).URL()}
}

type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
		Groups     []struct {
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"data"`
}

func (p *prometheusServer) get(path string, params url.Values) (apiResponse, error) {
	var r apiResponse
	_, body, err := httpGet(p.base + path + "?" + params.Encode())
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return r, fmt.Errorf("decoding %s: %w (%s)", path, err, body)
	}
	return r, nil
}

// TestDashboardQueriesInPrometheus evaluates every panel query of the
// dashboard in a real Prometheus scraping a real gateway with traffic: each
// must evaluate without error, and the core panels must return data.
func TestDashboardQueriesInPrometheus(t *testing.T) {
	g := sharedGateway(t)
	prom := startPrometheus(t, strings.TrimPrefix(g.base, "http://"))
	_, _, queries := loadDashboard(t)

	// Wait for enough scrapes that rate() over 10s has several samples of
	// moving counters, and range queries ending now see them.
	testwait.For(t, 60*time.Second, "prometheus to see traffic from the gateway", func() error {
		r, err := prom.get("/api/v1/query", url.Values{"query": {`min(count_over_time(records_processed_total[10s])) >= 5 and sum(rate(records_processed_total[10s])) > 0`}})
		if err == nil && (r.Status != "success" || len(r.Data.Result) == 0) {
			err = fmt.Errorf("status %s, %d results", r.Status, len(r.Data.Result))
		}
		return err
	})

	for _, q := range queries {
		t.Run(q.Panel+"/"+q.RefID, func(t *testing.T) {
			expr := grafanaVars.Replace(q.Expr)
			require.NotContains(t, expr, "$", "unreplaced Grafana variable in %q", expr)
			now := time.Now()
			for _, kind := range []struct {
				path   string
				params url.Values
			}{
				{"/api/v1/query", url.Values{"query": {expr}}},
				{"/api/v1/query_range", url.Values{
					"query": {expr},
					"start": {unixSeconds(now.Add(-time.Minute))},
					"end":   {unixSeconds(now)},
					"step":  {"2"},
				}},
			} {
				r, err := prom.get(kind.path, kind.params)
				require.NoError(t, err)
				require.Equal(t, "success", r.Status, "%s %q: %s: %s", kind.path, expr, r.ErrorType, r.Error)
				if corePanels[q.Panel] {
					require.NotEmpty(t, r.Data.Result, "core panel %q returned no data from %s for %q", q.Panel, kind.path, expr)
				}
			}
		})
	}

	// The alert rules load and evaluate cleanly against real series.
	testwait.For(t, 20*time.Second, "every alert rule healthy in prometheus", func() error {
		r, err := prom.get("/api/v1/rules", url.Values{})
		if err != nil {
			return err
		}
		if r.Status != "success" || len(r.Data.Groups) == 0 {
			return fmt.Errorf("status %s, %d rule groups", r.Status, len(r.Data.Groups))
		}
		for _, grp := range r.Data.Groups {
			for _, rule := range grp.Rules {
				if rule.Health != "ok" {
					return fmt.Errorf("rule %s: health %q", rule.Name, rule.Health)
				}
			}
		}
		return nil
	})
}

func unixSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}
