package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// AuditReader reads the audit trail; audit.Log satisfies it.
type AuditReader interface {
	List(ctx context.Context, f audit.Filter) (audit.Page, error)
}

var _ AuditReader = audit.Log(nil)

// eventJSON is one audit event in responses.
type eventJSON struct {
	ID      int64           `json:"id"`
	At      *string         `json:"at"`
	Actor   string          `json:"actor"`
	Role    string          `json:"role"`
	Action  string          `json:"action"`
	Target  string          `json:"target"`
	Reason  string          `json:"reason"`
	Details json.RawMessage `json:"details"`
}

func newEventJSON(e *audit.Event) eventJSON {
	ej := eventJSON{
		ID: e.ID, At: formatTime(e.At), Actor: e.Actor, Role: e.Role, Action: e.Action,
		Target: e.Target, Reason: e.Reason, Details: e.Details,
	}
	if len(ej.Details) == 0 || !json.Valid(ej.Details) {
		ej.Details = json.RawMessage("null")
	}
	return ej
}

func (a *api) listAudit(w http.ResponseWriter, r *http.Request) {
	if a.audit == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, "the audit log is not enabled")
		return
	}
	f, msg := parseAuditFilter(r.URL.Query())
	if msg != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, msg)
		return
	}
	page, err := a.audit.List(r.Context(), f)
	if errors.Is(err, audit.ErrBadCursor) {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter,
			"invalid cursor: use the next_cursor of a previous page")
		return
	}
	if err != nil {
		a.internalError(w, r, "listing audit events", err)
		return
	}
	resp := struct {
		Events     []eventJSON `json:"events"`
		NextCursor *string     `json:"next_cursor"`
	}{Events: make([]eventJSON, len(page.Events))}
	for i := range page.Events {
		resp.Events[i] = newEventJSON(&page.Events[i])
	}
	if page.NextCursor != "" {
		resp.NextCursor = &page.NextCursor
	}
	WriteJSON(w, http.StatusOK, resp)
}

// parseAuditFilter reads the audit query parameters. Its page parameters
// (since, until, limit, cursor) are the quarantine list's, read by the
// same parser and worded the same; limit is at most 1000.
func parseAuditFilter(q url.Values) (audit.Filter, string) {
	f := audit.Filter{Target: q.Get("target"), Action: q.Get("action"), Actor: q.Get("actor")}
	if problem := repeatedParameter(q); problem != "" {
		return f, problem
	}
	page := url.Values{}
	for _, name := range []string{"since", "until", "limit", "cursor"} {
		if v, ok := q[name]; ok {
			page[name] = v
		}
	}
	pf, err := quarantine.ParseQuery(page, quarantine.QueryOptions{MaxLimit: 1000})
	f.Since, f.Until, f.Limit, f.Cursor = pf.Since, pf.Until, pf.Limit, pf.Cursor
	return f, queryProblem(err)
}
