package httpapi

import (
	"net/http"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// discardMatching discards in bulk the records a filter (or ids) selects,
// at most reprocess.MaxDiscard per call ("more" says to call again), each
// audited; a dry run only counts them.
func (a *api) discardMatching(w http.ResponseWriter, r *http.Request) {
	if a.reprocess == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, reprocessDisabled)
		return
	}
	var body struct {
		Filter filterJSON `json:"filter"`
		DryRun bool       `json:"dry_run"`
		Reason string     `json:"reason"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	f, msg := body.Filter.filter()
	if msg != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, msg)
		return
	}
	actor, role := ActorFrom(r.Context())
	res, err := a.reprocess.DiscardMatching(r.Context(), f, quarantine.Change{Actor: actor, Role: role, Reason: body.Reason}, body.DryRun)
	if a.reprocessError(w, r, "discarding records", err) {
		return
	}
	audit.Recorded(r.Context()) // the store records each record's change; a dry run changes nothing
	WriteJSON(w, http.StatusOK, res)
}
