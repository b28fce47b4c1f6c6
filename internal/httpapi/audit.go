package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
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
		writeError(w, http.StatusNotFound, codeNotFound, "the audit log is not enabled")
		return
	}
	f, msg := parseAuditFilter(r.URL.Query())
	if msg != "" {
		writeError(w, http.StatusBadRequest, codeInvalidParameter, msg)
		return
	}
	page, err := a.audit.List(r.Context(), f)
	if errors.Is(err, audit.ErrBadCursor) {
		writeError(w, http.StatusBadRequest, codeInvalidParameter,
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
	writeJSON(w, http.StatusOK, resp)
}

// parseAuditFilter reads the audit query parameters, as parseFilter does
// the quarantine list's.
func parseAuditFilter(q url.Values) (audit.Filter, string) {
	var f audit.Filter
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if n := len(q[name]); n > 1 {
			return f, fmt.Sprintf("parameter %s is given %d times; give it at most once", name, n)
		}
	}
	f.Target, f.Action, f.Actor = q.Get("target"), q.Get("action"), q.Get("actor")
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, fmt.Sprintf("invalid %s %q: must be an RFC 3339 time such as 2026-11-03T10:00:00Z", p.name, v)
		}
		*p.dst = t
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until) {
		return f, "invalid since: it is after until"
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, fmt.Sprintf("invalid limit %q: must be an integer from 1 to 1000", v)
		}
		f.Limit = n
	}
	f.Cursor = q.Get("cursor")
	return f, ""
}
