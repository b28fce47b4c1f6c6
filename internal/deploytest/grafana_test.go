package deploytest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const dashboardFile = "deploy/grafana/dashboards/dataquarantine.json"

type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			AllValue string `json:"allValue"`
			Query    struct {
				Query string `json:"query"`
			} `json:"query"`
			Datasource dataSourceRef `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type dataSourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int           `json:"id"`
	Title      string        `json:"title"`
	Type       string        `json:"type"`
	Datasource dataSourceRef `json:"datasource"`
	Targets    []struct {
		Expr    string        `json:"expr"`
		RefID   string        `json:"refId"`
		Instant bool          `json:"instant"`
		DS      dataSourceRef `json:"datasource"`
	} `json:"targets"`
	Panels  []panel `json:"panels"` // a collapsed row's
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
}

// query is one panel target's PromQL.
type query struct {
	Panel, RefID, Expr string
}

func loadDashboard(t *testing.T) (dashboard, []panel, []query) {
	t.Helper()
	var d dashboard
	require.NoError(t, json.Unmarshal(ReadFile(t, dashboardFile), &d), dashboardFile)
	var flat []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			flat = append(flat, p)
		}
	}
	walk(d.Panels)
	var qs []query
	for _, p := range flat {
		for _, tg := range p.Targets {
			qs = append(qs, query{Panel: p.Title, RefID: tg.RefID, Expr: tg.Expr})
		}
	}
	return d, flat, qs
}

// The panels the dashboard must have (issue 7, PRODUCT.md §8), by title and
// type.
var requiredPanels = map[string]string{
	"Validation rate":            "timeseries",
	"Success rate":               "stat",
	"Error types":                "piechart",
	"Validation latency heatmap": "heatmap",
	"Store write errors":         "timeseries",
	"Circuit state":              "state-timeline",
	"Batch rate":                 "timeseries",
	"Consumer lag":               "gauge",
	"Consumer lag by partition":  "table",
}

func TestDashboardStructure(t *testing.T) {
	d, panels, queries := loadDashboard(t)
	require.Equal(t, "dataquarantine", d.UID)
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Query.Query
		require.Equal(t, "prometheus", v.Datasource.UID, "variable %s", v.Name)
		require.Equal(t, ".*", v.AllValue, "variable %s: 'All' must match every value", v.Name)
	}
	require.Contains(t, vars, "topic")
	require.Contains(t, vars, "subject")

	byTitle := map[string]panel{}
	ids := map[int]bool{}
	for _, p := range panels {
		require.False(t, ids[p.ID], "panel id %d used twice", p.ID)
		ids[p.ID] = true
		byTitle[p.Title] = p
		require.Equal(t, "prometheus", p.Datasource.UID, "panel %q datasource", p.Title)
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			require.NotEmpty(t, strings.TrimSpace(tg.Expr), "panel %q target %s has no expr", p.Title, tg.RefID)
		}
	}
	// Panels sit inside the 24-column grid without overlapping.
	for i, a := range panels {
		g := a.GridPos
		require.True(t, g.W > 0 && g.H > 0 && g.X >= 0 && g.X+g.W <= 24, "panel %q gridPos %+v", a.Title, g)
		for _, b := range panels[i+1:] {
			h := b.GridPos
			overlap := g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H
			require.False(t, overlap, "panels %q and %q overlap", a.Title, b.Title)
		}
	}
	for title, typ := range requiredPanels {
		p, ok := byTitle[title]
		require.True(t, ok, "dashboard has no %q panel", title)
		require.Equal(t, typ, p.Type, "panel %q", title)
	}
	// Record-level panels follow the topic (and where the metric has it,
	// subject) selection.
	for _, q := range queries {
		for _, m := range MetricNames(q.Expr) {
			switch {
			case strings.HasPrefix(m, "records_"):
				require.Contains(t, q.Expr, `topic=~"$topic"`, "%s %s", q.Panel, q.RefID)
				require.Contains(t, q.Expr, `subject=~"$subject"`, "%s %s", q.Panel, q.RefID)
			case strings.HasPrefix(m, "validation_duration_seconds"), m == "circuit_state", m == "kafka_lag":
				require.Contains(t, q.Expr, `topic=~"$topic"`, "%s %s", q.Panel, q.RefID)
			}
		}
	}
}

// TestDashboardUsesExportedMetrics checks every panel query and template
// variable against the metric names a real gateway exports after traffic.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	d, _, queries := loadDashboard(t)
	exported := scrapeGatewayOnce(t)
	conditional := map[string]string{
		"up":                               "synthesised by Prometheus for each scrape target",
		"postgres_pool_active_connections": "exported only when storage.metadata.url is postgres:// (TestPostgresPoolMetrics)",
		"postgres_pool_max_connections":    "exported only when storage.metadata.url is postgres:// (TestPostgresPoolMetrics)",
	}
	for _, v := range d.Templating.List {
		selector, ok := strings.CutPrefix(v.Query.Query, "label_values(")
		require.True(t, ok, "variable %s: want label_values(selector, label), got %q", v.Name, v.Query.Query)
		if i := strings.LastIndex(selector, ","); i >= 0 {
			selector = selector[:i]
		}
		queries = append(queries, query{Panel: "variable " + v.Name, RefID: "-", Expr: selector})
	}
	for _, q := range queries {
		t.Run(q.Panel+"/"+q.RefID, func(t *testing.T) {
			names := MetricNames(q.Expr)
			require.NotEmpty(t, names, "no metric in %q", q.Expr)
			for _, n := range names {
				if _, ok := conditional[n]; ok {
					continue
				}
				require.True(t, exported[n], "%q queries %s, which the gateway does not export", q.Panel, n)
			}
		})
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	require.NoError(t, yaml.Unmarshal(ReadFile(t, "deploy/grafana/provisioning/datasources/prometheus.yml"), &ds))
	require.Equal(t, 1, ds.APIVersion)
	require.Len(t, ds.Datasources, 1)
	require.Equal(t, "prometheus", ds.Datasources[0].UID, "the dashboard refers to this uid")
	require.Equal(t, "prometheus", ds.Datasources[0].Type)
	require.Equal(t, "http://prometheus:9090", ds.Datasources[0].URL, "the compose service name and port")

	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	require.NoError(t, yaml.Unmarshal(ReadFile(t, "deploy/grafana/provisioning/dashboards/dataquarantine.yml"), &prov))
	require.Equal(t, 1, prov.APIVersion)
	require.Len(t, prov.Providers, 1)
	require.Equal(t, "file", prov.Providers[0].Type)
	require.Equal(t, grafanaDashboardsPath, prov.Providers[0].Options.Path)
}

// grafanaDashboardsPath is where the compose file mounts deploy/grafana/dashboards.
const grafanaDashboardsPath = "/etc/grafana/dashboards"
