package web

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/dataquarantine/dataquarantine/internal/live"
)

// dashboardParts are the dashboard's live fragments: each is a template
// "frag-<name>" and an SSE event <name> that replaces it.
var dashboardParts = []string{"counters", "errors", "latency", "lag", "circuits", "recent"}

func (u *ui) dashboard(w http.ResponseWriter, r *http.Request) {
	snap, err := u.opts.Live.Snapshot(r.Context())
	if err != nil {
		u.internalError(w, r, "reading live stats", err)
		return
	}
	u.render(w, r, http.StatusOK, "dashboard", "Dashboard", "dashboard", struct {
		Snap   liveView
		Events string
	}{liveView{snap, u.actions(r.Context())}, EventsPath})
}

// liveView is what the dashboard's fragments get: the snapshot, and the
// actions they may offer.
type liveView struct {
	live.Snapshot
	Actions Actions
}

// renderEvents renders a snapshot as one SSE event per dashboard fragment.
// It has no request, so it offers the actions of Options.Actions to all.
//
// TODO(lead): if ResumeCircuit is ever set with auth on, render per
// request (live.Render would need the request's context) so viewers do not
// see the button.
func (u *ui) renderEvents(s live.Snapshot) ([]live.Event, error) {
	evs := make([]live.Event, 0, len(dashboardParts))
	var buf bytes.Buffer
	for _, p := range dashboardParts {
		buf.Reset()
		if err := u.frags.ExecuteTemplate(&buf, "frag-"+p, liveView{s, u.opts.Actions}); err != nil {
			return nil, fmt.Errorf("rendering dashboard fragment %s: %w", p, err)
		}
		evs = append(evs, live.Event{Name: p, Data: buf.String()})
	}
	return evs, nil
}
