package deploytest

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	alertsFile     = "deploy/prometheus/alerts.yml"
	alertTestsFile = "deploy/prometheus/alerts_test.yml"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type alertTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string           `yaml:"eval_time"`
			AlertName string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	var rf ruleFile
	require.NoError(t, yaml.Unmarshal(ReadFile(t, alertsFile), &rf), alertsFile)
	require.NotEmpty(t, rf.Groups, "no rule groups in %s", alertsFile)
	return rf
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := Tool(t, "promtool")
	cmd := exec.CommandContext(t.Context(), promtool, "check", "rules", alertsFile)
	cmd.Dir = RepoRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check rules:\n%s", out)
}

func TestPromtoolTestRules(t *testing.T) {
	promtool := Tool(t, "promtool")
	cmd := exec.CommandContext(t.Context(), promtool, "test", "rules", alertTestsFile)
	cmd.Dir = RepoRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool test rules:\n%s", out)
	require.Contains(t, string(out), "SUCCESS")
}

// TestEveryAlertIsUnitTested keeps alerts_test.yml complete: each alert is
// evaluated at least once expecting it to fire and once expecting silence.
func TestEveryAlertIsUnitTested(t *testing.T) {
	rf := loadRules(t)
	var tf alertTestFile
	require.NoError(t, yaml.Unmarshal(ReadFile(t, alertTestsFile), &tf))
	require.Equal(t, []string{"alerts.yml"}, tf.RuleFiles)
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tf.Tests {
		for _, at := range tc.AlertRuleTest {
			if len(at.ExpAlerts) > 0 {
				fires[at.AlertName] = true
			} else {
				silent[at.AlertName] = true
			}
		}
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			t.Run(r.Alert, func(t *testing.T) {
				require.True(t, fires[r.Alert], "no unit test makes %s fire", r.Alert)
				require.True(t, silent[r.Alert], "no unit test shows %s silent", r.Alert)
			})
		}
	}
}

var markdownHeading = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)

// githubAnchor is the fragment GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestAlertAnnotationsAndRunbooks(t *testing.T) {
	rf := loadRules(t)
	anchors := map[string]bool{}
	for _, m := range markdownHeading.FindAllStringSubmatch(string(ReadFile(t, "docs/operations.md")), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	const prefix = "https://github.com/dataquarantine/dataquarantine/blob/main/docs/operations.md#"
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			t.Run(r.Alert, func(t *testing.T) {
				require.NotEmpty(t, r.Alert)
				require.False(t, seen[r.Alert], "alert %s defined twice", r.Alert)
				seen[r.Alert] = true
				require.Contains(t, []string{"warning", "critical"}, r.Labels["severity"])
				for _, key := range []string{"summary", "description", "runbook_url"} {
					require.NotEmpty(t, r.Annotations[key], "%s has no %s annotation", r.Alert, key)
				}
				url := r.Annotations["runbook_url"]
				require.True(t, strings.HasPrefix(url, prefix), "runbook_url %s is not a docs/operations.md section", url)
				anchor := strings.TrimPrefix(url, prefix)
				require.Equal(t, strings.ToLower(r.Alert), anchor, "runbook anchor should be the alert's name")
				require.True(t, anchors[anchor], "docs/operations.md has no section #%s", anchor)
			})
		}
	}
}

// TestAlertsUseExportedMetrics checks every metric an alert reads is one the
// gateway exports (see TestGatewayMetricsCoverDashboard for the live
// scrape), or one exported only in some setups, listed here with the reason.
func TestAlertsUseExportedMetrics(t *testing.T) {
	conditional := map[string]string{
		"up":                               "synthesised by Prometheus for each scrape target",
		"postgres_pool_active_connections": "exported only when storage.metadata.url is postgres://",
		"postgres_pool_max_connections":    "exported only when storage.metadata.url is postgres://",
	}
	exported := scrapeGatewayOnce(t)
	rf := loadRules(t)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			t.Run(r.Alert, func(t *testing.T) {
				names := MetricNames(r.Expr)
				require.NotEmpty(t, names, "no metric found in %q", r.Expr)
				for _, n := range names {
					if _, ok := conditional[n]; ok {
						continue
					}
					require.True(t, exported[n], "%s uses %s, which the gateway does not export", r.Alert, n)
				}
			})
		}
	}
}
