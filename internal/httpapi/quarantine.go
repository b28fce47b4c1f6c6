package httpapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// item is one quarantined record's metadata in responses.
type item struct {
	ID              string             `json:"id"`
	SourceTopic     string             `json:"source_topic"`
	SourcePartition int32              `json:"source_partition"`
	SourceOffset    int64              `json:"source_offset"`
	Key             *string            `json:"key"`
	KeyEncoding     *string            `json:"key_encoding"`
	Timestamp       *string            `json:"timestamp"`
	Subject         string             `json:"subject"`
	SchemaVersion   int                `json:"schema_version"`
	ErrorType       record.ErrorType   `json:"error_type"`
	ErrorField      string             `json:"error_field"`
	Errors          []record.Violation `json:"errors"`
	QuarantinedAt   *string            `json:"quarantined_at"`
	Status          quarantine.Status  `json:"status"`
	PayloadSize     int                `json:"payload_size"`
	// The lifecycle: who changed the status last, when and why; the job
	// that last claimed the record; how often it was republished; whether
	// a corrected payload is stored.
	StatusChangedAt *string `json:"status_changed_at"`
	StatusActor     string  `json:"status_actor"`
	StatusReason    string  `json:"status_reason"`
	Job             string  `json:"job"`
	ReplayCount     int     `json:"replay_count"`
	Corrected       bool    `json:"corrected"`
}

func newItem(e *quarantine.Entry) item {
	it := item{
		ID:              e.ID,
		SourceTopic:     e.SourceTopic,
		SourcePartition: e.SourcePartition,
		SourceOffset:    e.SourceOffset,
		Timestamp:       formatTime(e.Timestamp),
		Subject:         e.Subject,
		SchemaVersion:   e.SchemaVersion,
		ErrorType:       e.ErrorType,
		ErrorField:      e.ErrorField,
		Errors:          e.Errors,
		QuarantinedAt:   formatTime(e.QuarantinedAt),
		Status:          e.Status,
		PayloadSize:     e.PayloadSize,
		StatusChangedAt: formatTime(e.StatusChangedAt),
		StatusActor:     e.StatusActor,
		StatusReason:    e.StatusReason,
		Job:             e.Job,
		ReplayCount:     e.ReplayCount,
		Corrected:       e.Corrected,
	}
	it.Key, it.KeyEncoding = encodeBytes(e.Key)
	if it.Errors == nil {
		it.Errors = []record.Violation{}
	}
	return it
}

// detail is one record with its payload.
type detail struct {
	item
	Payload         *string  `json:"payload"`
	PayloadEncoding *string  `json:"payload_encoding"`
	Headers         []header `json:"headers"`
	// PayloadError is null when the payload was read, else why it could
	// not be: "not_found" (not stored, or not yet: a payload spool may
	// still hold it) or "corrupt" (its stored bytes are damaged).
	PayloadError *string `json:"payload_error"`
	// CorrectedPayload is the stored correction, present only when the
	// record has one (and reprocessing is enabled).
	CorrectedPayload         *string `json:"corrected_payload,omitempty"`
	CorrectedPayloadEncoding *string `json:"corrected_payload_encoding,omitempty"`
	// History is the record's audit events, newest first (at most 100),
	// present only when the audit log is enabled.
	History *[]eventJSON `json:"history,omitempty"`
}

// withPayload returns e with its payload and headers, and the payload read
// (nil when it could not be). A payload not stored or damaged is said in
// PayloadError (the damage is logged, for an operator to act on); any other
// failure to read it is an error.
func (a *api) withPayload(ctx context.Context, e *quarantine.Entry) (detail, *quarantine.Payload, error) {
	d := detail{item: newItem(e), Headers: []header{}}
	p, err := a.payloads.Read(ctx, e.Payload)
	switch {
	case err == nil:
		d.Payload, d.PayloadEncoding = encodeBytes(p.Value)
		for _, h := range p.Headers {
			hj := header{Key: h.Key}
			hj.Value, hj.ValueEncoding = encodeBytes(h.Value)
			d.Headers = append(d.Headers, hj)
		}
		return d, &p, nil
	case errors.Is(err, quarantine.ErrNotFound):
		reason := "not_found"
		d.PayloadError = &reason
	case errors.Is(err, quarantine.ErrCorrupt):
		a.log.ErrorContext(ctx, "reading quarantined payload", "id", e.ID, "ref", e.Payload, "err", err)
		reason := "corrupt"
		d.PayloadError = &reason
	default:
		return detail{}, nil, err
	}
	return d, nil, nil
}

type header struct {
	Key           string  `json:"key"`
	Value         *string `json:"value"`
	ValueEncoding *string `json:"value_encoding"`
}

type listResponse struct {
	Items      []item  `json:"items"`
	NextCursor *string `json:"next_cursor"`
	// Scanned is how many records a full-text search (q) read for this
	// page; absent without q.
	Scanned *int `json:"scanned,omitempty"`
	// Total is how many records match the filters, on every page; present
	// only when asked for (total=true) and without q.
	Total *int64 `json:"total,omitempty"`
}

func (a *api) listQuarantine(w http.ResponseWriter, r *http.Request) {
	f, msg := parseFilter(r.URL.Query())
	if msg != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, msg)
		return
	}
	withTotal := false
	if v := r.URL.Query().Get("total"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			WriteError(w, http.StatusBadRequest, codeInvalidParameter, fmt.Sprintf("invalid total %q: must be true or false", v))
			return
		}
		withTotal = b
	}
	var page quarantine.Page
	var scanned *int
	var total *int64
	var err error
	if text := r.URL.Query().Get("q"); text != "" {
		var res quarantine.SearchResult
		res, err = quarantine.Search(r.Context(), a.quarantine, a.payloads, f, text, 0)
		page, scanned = res.Page, &res.Scanned
	} else {
		page, err = a.quarantine.List(r.Context(), f)
		if err == nil && withTotal {
			var n int64
			n, err = a.quarantine.Count(r.Context(), f)
			total = &n
		}
	}
	if errors.Is(err, quarantine.ErrBadCursor) {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter,
			"invalid cursor: use the next_cursor of a previous page")
		return
	}
	if err != nil {
		a.internalError(w, r, "listing quarantine entries", err)
		return
	}
	resp := listResponse{Items: make([]item, len(page.Entries)), Scanned: scanned, Total: total}
	for i := range page.Entries {
		resp.Items[i] = newItem(&page.Entries[i])
	}
	if page.NextCursor != "" {
		resp.NextCursor = &page.NextCursor
	}
	WriteJSON(w, http.StatusOK, resp)
}

// parseFilter reads the list query parameters with quarantine.ParseQuery:
// each at most once, RFC 3339 times, limit up to quarantine.MaxLimit. It
// returns a message naming the offending parameter, or "" when all are
// valid. An empty value is the same as an absent one, as HTML forms send
// them.
func parseFilter(q url.Values) (quarantine.Filter, string) {
	if problem := repeatedParameter(q); problem != "" {
		return quarantine.Filter{}, problem
	}
	f, err := quarantine.ParseQuery(q, quarantine.QueryOptions{MaxLimit: quarantine.MaxLimit})
	return f, queryProblem(err)
}

// repeatedParameter names the first parameter given more than once, or
// returns "": every list parameter takes one value.
func repeatedParameter(q url.Values) string {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if n := len(q[name]); n > 1 {
			return fmt.Sprintf("parameter %s is given %d times; give it at most once", name, n)
		}
	}
	return ""
}

// queryProblem words a quarantine.ParseQuery error for the API, naming
// the offending parameter; "" for none.
func queryProblem(err error) string {
	var qe *quarantine.QueryError
	if !errors.As(err, &qe) {
		return ""
	}
	switch qe.Reason {
	case quarantine.QueryUnknown:
		if qe.Param == "status" {
			return fmt.Sprintf("invalid status %q: must be one of %s", qe.Value, joinStrings(quarantine.Statuses))
		}
		return fmt.Sprintf("invalid error_type %q: must be one of %s", qe.Value, joinStrings(record.ErrorTypes))
	case quarantine.QueryNotATime:
		return fmt.Sprintf("invalid %s %q: must be an RFC 3339 time such as 2026-11-03T10:00:00Z", qe.Param, qe.Value)
	case quarantine.QuerySinceAfterUntil:
		return "invalid since: it is after until"
	default:
		return fmt.Sprintf("invalid limit %q: must be an integer from 1 to %d", qe.Value, qe.MaxLimit)
	}
}

func joinStrings[S ~string](ss []S) string {
	var b strings.Builder
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(s))
	}
	return b.String()
}

func (a *api) getQuarantine(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	e, err := a.quarantine.Get(r.Context(), id)
	if errors.Is(err, quarantine.ErrNotFound) {
		WriteError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no quarantined record with id %q", id))
		return
	}
	if err != nil {
		a.internalError(w, r, "getting quarantine entry", err)
		return
	}
	d, _, err := a.withPayload(r.Context(), &e)
	if err != nil {
		a.internalError(w, r, "reading quarantined payload", err)
		return
	}
	if e.Corrected && a.reprocess != nil {
		v, err := a.reprocess.Correction(r.Context(), id)
		if err != nil && !errors.Is(err, quarantine.ErrNotFound) {
			a.internalError(w, r, "reading corrected payload", err)
			return
		}
		if err == nil {
			d.CorrectedPayload, d.CorrectedPayloadEncoding = encodeBytes(v)
		}
	}
	if a.audit != nil {
		page, err := a.audit.List(r.Context(), audit.Filter{Target: quarantine.AuditTarget(id)})
		if err != nil {
			a.internalError(w, r, "reading record history", err)
			return
		}
		h := make([]eventJSON, len(page.Events))
		for i := range page.Events {
			h[i] = newEventJSON(&page.Events[i])
		}
		d.History = &h
	}
	WriteJSON(w, http.StatusOK, d)
}
