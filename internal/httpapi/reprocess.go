package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// Error codes of the reprocessing endpoints.
const (
	codeConflict        = "conflict"
	codePayloadTooLarge = "payload_too_large"
	codeInvalidBody     = "invalid_body"
	codeUnavailable     = "unavailable"
)

// maxRequestBody bounds the JSON bodies of the reprocessing endpoints (a
// filter of MaxIDs ids fits many times over).
const maxRequestBody = 1 << 20

const reprocessDisabled = "reprocessing is not enabled"

// filterJSON is the body's filter; times are strings, so a bad one gets a
// message naming it.
type filterJSON struct {
	IDs       []string `json:"ids"`
	ErrorType string   `json:"error_type"`
	Field     string   `json:"field"`
	Topic     string   `json:"topic"`
	Subject   string   `json:"subject"`
	Status    string   `json:"status"`
	Since     string   `json:"since"`
	Until     string   `json:"until"`
}

func (fj *filterJSON) filter() (reprocess.Filter, string) {
	f := reprocess.Filter{
		IDs: fj.IDs, ErrorType: record.ErrorType(fj.ErrorType), Field: fj.Field, Topic: fj.Topic,
		Subject: fj.Subject, Status: quarantine.Status(fj.Status),
	}
	if f.ErrorType != "" && !f.ErrorType.Known() {
		return f, fmt.Sprintf("invalid filter.error_type %q: must be one of %s", fj.ErrorType, joinStrings(record.ErrorTypes))
	}
	if f.Status != "" && !f.Status.Actionable() {
		return f, fmt.Sprintf("invalid filter.status %q: only quarantined or failed_again records can be reprocessed", fj.Status)
	}
	for _, p := range []struct {
		name, v string
		dst     *time.Time
	}{{"since", fj.Since, &f.Since}, {"until", fj.Until, &f.Until}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, p.v)
		if err != nil {
			return f, fmt.Sprintf("invalid filter.%s %q: must be an RFC 3339 time such as 2026-11-03T10:00:00Z", p.name, p.v)
		}
		*p.dst = t
	}
	return f, ""
}

type reprocessBody struct {
	Filter filterJSON `json:"filter"`
	DryRun bool       `json:"dry_run"`
	Target string     `json:"target"`
	Reason string     `json:"reason"`
}

// decodeBody reads r's JSON body into v, strictly (unknown fields are an
// error: a misspelt filter key must not widen a reprocess run). An empty
// body leaves v as it is. It answers the error itself and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return true
	case errors.As(err, &mbe):
		WriteError(w, http.StatusRequestEntityTooLarge, codePayloadTooLarge,
			fmt.Sprintf("the request body is over %d bytes", maxRequestBody))
	default:
		WriteError(w, http.StatusBadRequest, codeInvalidBody, "invalid JSON body: "+err.Error())
	}
	return false
}

func (a *api) startReprocess(w http.ResponseWriter, r *http.Request) {
	if a.reprocess == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, reprocessDisabled)
		return
	}
	var body reprocessBody
	if !decodeBody(w, r, &body) {
		return
	}
	f, msg := body.Filter.filter()
	if msg != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, msg)
		return
	}
	if body.DryRun {
		res, err := a.reprocess.DryRunTo(r.Context(), f, reprocess.Target(body.Target))
		if a.reprocessError(w, r, "dry-running reprocess", err) {
			return
		}
		audit.Recorded(r.Context()) // a dry run changes nothing: no audit event
		WriteJSON(w, http.StatusOK, res)
		return
	}
	a.start(w, r, f, body.Target, body.Reason)
}

// start starts a job and answers 202 {"job"}.
func (a *api) start(w http.ResponseWriter, r *http.Request, f reprocess.Filter, target, reason string) {
	actor, role := ActorFrom(r.Context())
	id, err := a.reprocess.Start(r.Context(), reprocess.Request{
		Filter: f, Target: reprocess.Target(target), Reason: reason, Actor: actor, Role: role,
	})
	if a.reprocessError(w, r, "starting reprocess job", err) {
		return
	}
	audit.Recorded(r.Context()) // the service records reprocess.start, each record's change its own
	w.Header().Set("Location", "/api/v1/reprocess/"+id)
	WriteJSON(w, http.StatusAccepted, map[string]string{"job": id})
}

// reprocessError answers err, if any, and reports whether it did.
func (a *api) reprocessError(w http.ResponseWriter, r *http.Request, what string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, reprocess.ErrInvalidRequest):
		msg := strings.TrimSuffix(err.Error(), ": "+reprocess.ErrInvalidRequest.Error())
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, msg)
	case errors.Is(err, reprocess.ErrClosed):
		WriteError(w, http.StatusServiceUnavailable, codeUnavailable, "the gateway is shutting down")
	default:
		a.internalError(w, r, what, err)
	}
	return true
}

type jobJSON struct {
	Job        string          `json:"job"`
	State      string          `json:"state"`
	Matched    int64           `json:"matched"`
	Passed     int64           `json:"passed"`
	Failed     int64           `json:"failed"`
	Skipped    int64           `json:"skipped"`
	Target     string          `json:"target"`
	Filter     json.RawMessage `json:"filter"`
	Reason     string          `json:"reason"`
	Actor      string          `json:"actor"`
	Role       string          `json:"role"`
	CreatedAt  *string         `json:"created_at"`
	UpdatedAt  *string         `json:"updated_at"`
	FinishedAt *string         `json:"finished_at"`
	Duration   float64         `json:"duration_seconds"`
	Error      *string         `json:"error"`
}

func newJobJSON(j *quarantine.Job, now time.Time) jobJSON {
	jj := jobJSON{
		Job: j.ID, State: string(j.State), Matched: j.Matched, Passed: j.Passed, Failed: j.Failed,
		Skipped: j.Skipped, Target: j.Target, Filter: j.Filter, Reason: j.Reason, Actor: j.Actor, Role: j.Role,
		CreatedAt: formatTime(j.CreatedAt), UpdatedAt: formatTime(j.UpdatedAt), FinishedAt: formatTime(j.FinishedAt()),
		Duration: j.Duration(now).Seconds(),
	}
	if !json.Valid(jj.Filter) {
		jj.Filter = json.RawMessage("null")
	}
	if j.Error != "" {
		jj.Error = &j.Error
	}
	return jj
}

// listJobs answers the reprocess jobs, newest first, filtered by state
// and paged.
func (a *api) listJobs(w http.ResponseWriter, r *http.Request) {
	if a.reprocess == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, reprocessDisabled)
		return
	}
	q := r.URL.Query()
	if problem := repeatedParameter(q); problem != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, problem)
		return
	}
	f := quarantine.JobFilter{State: quarantine.JobState(q.Get("state")), Cursor: q.Get("cursor")}
	switch f.State {
	case "", quarantine.JobRunning, quarantine.JobDone, quarantine.JobFailed:
	default:
		WriteError(w, http.StatusBadRequest, codeInvalidParameter,
			fmt.Sprintf("invalid state %q: must be one of running, done, failed", f.State))
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > quarantine.MaxJobsLimit {
			WriteError(w, http.StatusBadRequest, codeInvalidParameter,
				fmt.Sprintf("invalid limit %q: must be an integer from 1 to %d", v, quarantine.MaxJobsLimit))
			return
		}
		f.Limit = n
	}
	page, err := a.reprocess.Jobs(r.Context(), f)
	if errors.Is(err, quarantine.ErrBadCursor) {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, "invalid cursor: use the next_cursor of a previous page")
		return
	}
	if err != nil {
		a.internalError(w, r, "listing reprocess jobs", err)
		return
	}
	now := time.Now()
	resp := struct {
		Jobs       []jobJSON `json:"jobs"`
		NextCursor *string   `json:"next_cursor"`
	}{Jobs: make([]jobJSON, len(page.Jobs))}
	for i := range page.Jobs {
		resp.Jobs[i] = newJobJSON(&page.Jobs[i], now)
	}
	if page.NextCursor != "" {
		resp.NextCursor = &page.NextCursor
	}
	WriteJSON(w, http.StatusOK, resp)
}

func (a *api) getJob(w http.ResponseWriter, r *http.Request) {
	if a.reprocess == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, reprocessDisabled)
		return
	}
	id := r.PathValue("job")
	j, err := a.reprocess.Job(r.Context(), id)
	if errors.Is(err, quarantine.ErrNotFound) {
		WriteError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no reprocess job %q", id))
		return
	}
	if err != nil {
		a.internalError(w, r, "getting reprocess job", err)
		return
	}
	WriteJSON(w, http.StatusOK, newJobJSON(&j, time.Now()))
}

// actionable answers 404 or 409 unless record id may be reprocessed,
// discarded or corrected now.
func (a *api) actionable(w http.ResponseWriter, r *http.Request, id string) bool {
	e, err := a.quarantine.Get(r.Context(), id)
	switch {
	case errors.Is(err, quarantine.ErrNotFound):
		WriteError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no quarantined record with id %q", id))
	case err != nil:
		a.internalError(w, r, "getting quarantine entry", err)
	case !e.Status.Actionable():
		WriteError(w, http.StatusConflict, codeConflict, conflictMessage(id, e.Status))
	default:
		return true
	}
	return false
}

func conflictMessage(id string, st quarantine.Status) string {
	return fmt.Sprintf("record %s is %s: only quarantined or failed_again records can change", id, st)
}

// lifecycleError answers a Lifecycle error, if any, and reports whether
// it did.
func (a *api) lifecycleError(w http.ResponseWriter, r *http.Request, id, what string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, quarantine.ErrNotFound):
		WriteError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no quarantined record with id %q", id))
	case errors.Is(err, quarantine.ErrConflict):
		st := quarantine.Status("no longer quarantined")
		if e, gerr := a.quarantine.Get(r.Context(), id); gerr == nil {
			st = e.Status
		}
		WriteError(w, http.StatusConflict, codeConflict, conflictMessage(id, st))
	default:
		a.reprocessError(w, r, what, err)
	}
	return true
}

func (a *api) reprocessOne(w http.ResponseWriter, r *http.Request) {
	if a.reprocess == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, reprocessDisabled)
		return
	}
	var body struct {
		Target string `json:"target"`
		Reason string `json:"reason"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	id := r.PathValue("id")
	if !a.actionable(w, r, id) {
		return
	}
	a.start(w, r, reprocess.Filter{IDs: []string{id}}, body.Target, body.Reason)
}

func (a *api) discard(w http.ResponseWriter, r *http.Request) {
	if a.reprocess == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, reprocessDisabled)
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	id := r.PathValue("id")
	actor, role := ActorFrom(r.Context())
	err := a.reprocess.Discard(r.Context(), id, quarantine.Change{Actor: actor, Role: role, Reason: body.Reason})
	if a.lifecycleError(w, r, id, "discarding record", err) {
		return
	}
	audit.Recorded(r.Context()) // the store records the change with the status
	WriteJSON(w, http.StatusOK, map[string]string{"id": id, "status": string(quarantine.StatusDiscarded)})
}

// putPayload stores the request body, as is, as the record's corrected
// payload, and answers the updated record. The reason is the "reason"
// query parameter.
func (a *api) putPayload(w http.ResponseWriter, r *http.Request) {
	if a.reprocess == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, reprocessDisabled)
		return
	}
	id := r.PathValue("id")
	value, ok := a.payloadBody(w, r, "corrected payload")
	if !ok {
		return
	}
	actor, role := ActorFrom(r.Context())
	err := a.reprocess.Correct(r.Context(), id, value, quarantine.Change{Actor: actor, Role: role, Reason: r.URL.Query().Get("reason")})
	if a.lifecycleError(w, r, id, "correcting record", err) {
		return
	}
	audit.Recorded(r.Context()) // the store records the change with the payload
	a.getQuarantine(w, r)       // the updated record, as GET shows it
}

// payloadBody reads the request body, a payload for a quarantined record,
// within the reprocessor's size limit; on a failure it answers the request
// (413 naming what, or 400) and returns false.
func (a *api) payloadBody(w http.ResponseWriter, r *http.Request, what string) ([]byte, bool) {
	limit := a.reprocess.MaxPayloadBytes()
	value, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		WriteError(w, http.StatusRequestEntityTooLarge, codePayloadTooLarge,
			fmt.Sprintf("the %s is over the %d-byte limit", what, limit))
		return nil, false
	case err != nil:
		WriteError(w, http.StatusBadRequest, codeInvalidBody, "reading the request body: "+err.Error())
		return nil, false
	}
	return value, true
}

// validatePayload validates the request body as record id's payload
// against the current schema and rules, as reprocessing would, and changes
// nothing: a check before PUT .../payload.
func (a *api) validatePayload(w http.ResponseWriter, r *http.Request) {
	if a.reprocess == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, reprocessDisabled)
		return
	}
	id := r.PathValue("id")
	value, ok := a.payloadBody(w, r, "payload")
	if !ok {
		return
	}
	c, err := a.reprocess.Check(r.Context(), id, value)
	if errors.Is(err, quarantine.ErrNotFound) {
		WriteError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no quarantined record with id %q", id))
		return
	}
	if a.reprocessError(w, r, "validating a payload", err) {
		return
	}
	audit.Recorded(r.Context()) // a check changes nothing: no audit event
	WriteJSON(w, http.StatusOK, struct {
		Valid   bool               `json:"valid"`
		Subject string             `json:"subject"`
		Version int                `json:"version"`
		Errors  []record.Violation `json:"errors"`
	}{len(c.Violations) == 0, c.Subject, c.Version, c.Violations})
}
