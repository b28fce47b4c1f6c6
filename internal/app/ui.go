package app

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
	"github.com/dataquarantine/dataquarantine/internal/web"
)

// newUI builds the live statistics over the gateway's registry and the web
// UI showing them, with reprocessing (and discarding and editing payloads),
// resuming an open circuit breaker, registering and rolling out schema
// versions (schemaChanges), shadow evaluation (shadows), and each
// record's history from the audit trail. With tokens, only operators and admins are offered the actions,
// and only admins the schema changes; the auth middleware refuses them to
// the others anyway.
func (a *App) newUI(reg *prometheus.Registry, schemaChanges web.SchemaWriter, shadows shadow.Control) (http.Handler, *live.Sampler, error) {
	stats, err := live.New(live.Options{Gatherer: reg, Recent: a.meta, Logger: a.log})
	if err != nil {
		return nil, nil, err
	}
	history, err := a.newHistory(reg)
	if err != nil {
		return nil, nil, err
	}
	opts := web.Options{
		Charts:     history,
		Quarantine: a.meta,
		Payloads:   a.payloads,
		Live:       stats,
		Schemas:    a.registry,
		Shadow:     shadows,
		Actions:    web.Actions{ResumeCircuit: true},
		Logger:     a.log,
	}
	if a.audit != nil {
		opts.History = web.AuditHistory(a.audit)
	}
	if a.replay != nil {
		opts.Reprocess = a.replay
	}
	if len(a.cfg.HTTP.Auth.Tokens) > 0 {
		opts.Principal = func(ctx context.Context) (string, string) {
			p := httpapi.PrincipalFrom(ctx)
			return p.Name, p.Role
		}
		opts.MayChange = func(ctx context.Context) bool {
			return auth.Allows(httpapi.PrincipalFrom(ctx).Role, auth.RoleOperator)
		}
		opts.MayAdminister = func(ctx context.Context) bool {
			return auth.Allows(httpapi.PrincipalFrom(ctx).Role, auth.RoleAdmin)
		}
	}
	// Registering and rolling out schema versions from the subject pages,
	// audited as the registry API's own changes are.
	opts.SchemaChanges = schemaChanges
	ui, err := web.New(opts)
	if err != nil {
		return nil, nil, err
	}
	return ui, stats, nil
}

// newHistory is the dashboard's history: from the Prometheus of
// ui.prometheus_url, or else recorded in memory from reg (a.recorder, run
// by Run).
func (a *App) newHistory(reg *prometheus.Registry) (live.HistorySource, error) {
	if u := a.cfg.UI.PrometheusURL; u != "" {
		return live.NewPrometheus(live.PrometheusOptions{URL: u})
	}
	r, err := live.NewRecorder(live.RecorderOptions{Gatherer: reg, Logger: a.log.With("component", "history")})
	if err != nil {
		return nil, err
	}
	a.recorder = r
	return r, nil
}
