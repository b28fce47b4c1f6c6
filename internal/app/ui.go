package app

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/web"
)

// newUI builds the live statistics over the gateway's registry and the web
// UI showing them. The UI's mutating actions (reprocess, discard, edit
// payload) and record history stay off until the reprocessing backend sets
// web.Options.Actions and History here.
func (a *App) newUI(reg *prometheus.Registry) (http.Handler, *live.Sampler, error) {
	stats, err := live.New(live.Options{Gatherer: reg, Recent: a.meta, Logger: a.log})
	if err != nil {
		return nil, nil, err
	}
	ui, err := web.New(web.Options{
		Quarantine: a.meta,
		Payloads:   a.payloads,
		Live:       stats,
		Schemas:    a.registry,
		Logger:     a.log,
	})
	if err != nil {
		return nil, nil, err
	}
	return ui, stats, nil
}
