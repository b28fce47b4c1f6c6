package web

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/dataquarantine/dataquarantine/internal/live"
)

// dashboardParts are the dashboard's live fragments: each is a template
// "frag-<name>" and an SSE event <name> that replaces it.
// The "history" event tells the charts (dashboard.js) when a new step can
// be fetched.
var dashboardParts = []string{"counters", "errors", "latency", "circuits", "recent"}

func (u *ui) dashboard(w http.ResponseWriter, r *http.Request) {
	var history *historyView
	if u.opts.Charts != nil {
		rg, topic, ok := historyForm(r)
		if !ok {
			u.errorPage(w, r, http.StatusBadRequest, "There is no such range of history, or no such topic.")
			return
		}
		history = newHistoryView(rg, topic)
	}
	snap, err := u.opts.Live.Snapshot(r.Context())
	if err != nil {
		u.internalError(w, r, "reading live stats", err)
		return
	}
	u.render(w, r, http.StatusOK, "dashboard", "Dashboard", "dashboard", struct {
		Snap    liveView
		Events  string
		History *historyView
	}{liveView{snap, u.actions(r.Context())}, EventsPath, history})
}

// WorstLag is the input partition furthest behind, nil when none is.
func (v liveView) WorstLag() *live.PartitionLag {
	var worst *live.PartitionLag
	for i := range v.Lag {
		if v.Lag[i].Lag > 0 && (worst == nil || v.Lag[i].Lag > worst.Lag) {
			worst = &v.Lag[i]
		}
	}
	return worst
}

// liveView is what the dashboard's fragments get: the snapshot, and the
// actions they may offer.
type liveView struct {
	live.Snapshot
	Actions Actions
}

// eventStreams is the dashboard's event stream. The fragments are rendered
// once per snapshot, without the request, so there are two streams: one
// with the actions (Resume beside an open breaker) for users MayChange
// allows, one without for the others; each request gets its user's.
func (u *ui) eventStreams() http.Handler {
	stream := func(a Actions) http.Handler {
		return live.Stream(live.StreamOptions{
			Sampler: u.opts.Live, Interval: u.opts.EventsInterval, Logger: u.log,
			Render: func(s live.Snapshot) ([]live.Event, error) { return u.renderEvents(a, s) },
		})
	}
	changer, viewer := stream(u.opts.Actions), stream(Actions{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u.mayChange(r.Context()) {
			changer.ServeHTTP(w, r)
			return
		}
		viewer.ServeHTTP(w, r)
	})
}

// renderEvents renders a snapshot as one SSE event per dashboard fragment,
// offering actions a.
func (u *ui) renderEvents(a Actions, s live.Snapshot) ([]live.Event, error) {
	evs := make([]live.Event, 0, len(dashboardParts))
	var buf bytes.Buffer
	for _, p := range dashboardParts {
		buf.Reset()
		if err := u.frags.ExecuteTemplate(&buf, "frag-"+p, liveView{s, a}); err != nil {
			return nil, fmt.Errorf("rendering dashboard fragment %s: %w", p, err)
		}
		evs = append(evs, live.Event{Name: p, Data: buf.String()})
	}
	if u.opts.Charts != nil {
		evs = append(evs, live.Event{Name: "history", Data: historyTick(s.At)})
	}
	return evs, nil
}
