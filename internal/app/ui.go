package app

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/web"
)

// newUI builds the live statistics over the gateway's registry and the web
// UI showing them, with reprocessing (and discarding and editing payloads),
// resuming an open circuit breaker, and each record's history from the
// audit trail. With tokens, only operators and admins are offered the
// actions; the auth middleware refuses them to viewers anyway.
func (a *App) newUI(reg *prometheus.Registry) (http.Handler, *live.Sampler, error) {
	stats, err := live.New(live.Options{Gatherer: reg, Recent: a.meta, Logger: a.log})
	if err != nil {
		return nil, nil, err
	}
	opts := web.Options{
		Quarantine: a.meta,
		Payloads:   a.payloads,
		Live:       stats,
		Schemas:    a.registry,
		Actions:    web.Actions{ResumeCircuit: true},
		Logger:     a.log,
	}
	if a.audit != nil {
		opts.History = auditHistory{a.audit}
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
	}
	ui, err := web.New(opts)
	if err != nil {
		return nil, nil, err
	}
	return ui, stats, nil
}

// auditHistory reads a quarantined record's history from the audit trail.
type auditHistory struct{ log audit.Log }

// historyLimit bounds a record's history on its page.
const historyLimit = 200

func (h auditHistory) History(ctx context.Context, id string) ([]web.HistoryEvent, error) {
	page, err := h.log.List(ctx, audit.Filter{Target: quarantine.AuditTarget(id), Limit: historyLimit})
	if err != nil {
		return nil, fmt.Errorf("listing the audit events of %s: %w", id, err)
	}
	out := make([]web.HistoryEvent, 0, len(page.Events))
	for _, e := range page.Events {
		out = append(out, web.HistoryEvent{At: e.At, Actor: e.Actor, Action: e.Action, Detail: e.Reason})
	}
	slices.Reverse(out) // the log lists newest first
	return out, nil
}
