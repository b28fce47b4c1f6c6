package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// listForm is the quarantine browser's filter form, as submitted.
type listForm struct {
	Search, ErrorType, Topic, Subject, Status, Field, Since, Until string
}

// filterParams are the form's names, in the order the page shows them.
var filterParams = []string{"q", "error_type", "topic", "subject", "status", "field", "since", "until"}

type listData struct {
	Form       listForm
	ErrorTypes []record.ErrorType
	Statuses   []quarantine.Status
	Rows       []rowView
	Problem    string // why the filter was refused, "" when it was not
	NextURL    string // the next page, "" on the last
	Filtered   bool
	// Searched is how many records a full-text search (q) read for this
	// page; 0 without a search.
	Searched int
	// Total is how many records match the filters (Counted: not with a
	// search, which cannot count without reading every payload).
	Total   int64
	Counted bool
	// ExportJSONL and ExportCSV download the matching records.
	ExportJSONL, ExportCSV string
	// ReprocessURL opens the reprocess page with the same filter; "" when
	// reprocessing is off.
	ReprocessURL string
	// Bulk offers the bulk actions (checkboxes, dry run, discard): the
	// user may change records. AllMatching: "all that match" is offered
	// (not with a search: a reprocess filter has no full-text search).
	Bulk, AllMatching bool
	// Query is the page's filters and cursor, which the bulk form carries.
	Query url.Values
	// BulkResult is a bulk action's answer, shown above the table.
	BulkResult *bulkResult
}

func (u *ui) quarantineList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, err := u.listPage(r, q, nil)
	if err != nil {
		u.internalError(w, r, "listing quarantine entries", err)
		return
	}
	if isHTMX(r) {
		// The form sends its empty fields too; the address bar gets the
		// same query without them.
		w.Header().Set("HX-Push-Url", canonicalURL(q))
		u.renderFragment(w, r, "quarantine", "results", d)
		return
	}
	u.render(w, r, http.StatusOK, "quarantine", "Quarantine", "quarantine", d)
}

// listPage builds the quarantine browser for the query q (filters, search,
// cursor), with the rows of selected ticked.
func (u *ui) listPage(r *http.Request, q url.Values, selected map[string]bool) (listData, error) {
	ctx := r.Context()
	fq := readFilter(q)
	f := fq.Filter
	d := listData{
		Form:       fq.Form,
		ErrorTypes: record.ErrorTypes,
		Statuses:   quarantine.Statuses,
		Problem:    fq.Problem,
		Query:      url.Values{},
	}
	for _, p := range append(filterParams, "cursor") {
		if v := q.Get(p); v != "" {
			d.Query.Set(p, v)
		}
	}
	d.Filtered = q.Get("q") != "" || f.ErrorType != "" || f.Topic != "" || f.Subject != "" || f.Status != "" || f.Field != "" ||
		!f.Since.IsZero() || !f.Until.IsZero()
	if d.Problem != "" {
		return d, nil
	}
	var page quarantine.Page
	var err error
	if text := q.Get("q"); text != "" {
		var res quarantine.SearchResult
		res, err = quarantine.Search(ctx, u.opts.Quarantine, u.opts.Payloads, f, text, 0)
		page, d.Searched = res.Page, res.Scanned
	} else {
		page, err = u.opts.Quarantine.List(ctx, f)
		if err == nil {
			d.Total, err = u.opts.Quarantine.Count(ctx, f)
			d.Counted = true
		}
	}
	switch {
	case errors.Is(err, quarantine.ErrBadCursor):
		d.Problem = "This page link is no longer valid: start again from the first page."
		return d, nil
	case err != nil:
		return d, err
	}
	d.Rows = u.previewRows(ctx, page.Entries, selected)
	d.ExportJSONL, d.ExportCSV = exportURL(q, f, "jsonl"), exportURL(q, f, "csv")
	acts := u.actions(ctx)
	d.Bulk = acts.Reprocess
	d.AllMatching = acts.Reprocess && q.Get("q") == ""
	// A reprocess filter has no full-text search: offered only when it
	// selects exactly what the page lists.
	if acts.Reprocess && q.Get("q") == "" {
		d.ReprocessURL = strings.Replace(canonicalURL(withoutCursor(q)), "/quarantine", "/reprocess", 1)
	}
	if page.NextCursor != "" {
		next := url.Values{}
		for _, p := range filterParams {
			next.Set(p, q.Get(p))
		}
		next.Set("cursor", page.NextCursor)
		d.NextURL = canonicalURL(next)
	}
	return d, nil
}

// canonicalURL is the browser's address for q: its non-empty filters and
// cursor, in a fixed order.
func canonicalURL(q url.Values) string {
	out := url.Values{}
	for _, p := range append(filterParams, "cursor") {
		if v := q.Get(p); v != "" {
			out.Set(p, v)
		}
	}
	if len(out) == 0 {
		return "/quarantine"
	}
	return "/quarantine?" + out.Encode()
}

func withoutCursor(q url.Values) url.Values {
	out := url.Values{}
	for _, p := range filterParams {
		out.Set(p, q.Get(p))
	}
	return out
}

// browserTimeLayouts are the times the browser's filters take: RFC 3339,
// or the "2006-01-02T15:04" of a datetime-local input (seconds optional),
// taken as UTC.
var browserTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"}

// filterQuery is a quarantine filter as the browser's forms send it: the
// quarantine browser's query, the reprocess form, the bulk form.
type filterQuery struct {
	// Form is the filters as sent, for the form to show again.
	Form listForm
	// Filter is what they select, every text filter set even with a
	// Problem (the list page's "filtered" note reads it).
	Filter quarantine.Filter
	// Problem says, in the page's words, why the filters were refused; ""
	// when they were not.
	Problem string
}

// readFilter is the browser's one reader of a quarantine filter from a
// query or form, with quarantine.ParseQuery: no limit (a page is
// quarantine.DefaultLimit), the browser's time layouts, and a problem
// worded for the page.
func readFilter(q url.Values) filterQuery {
	fq := filterQuery{Form: listForm{
		Search: q.Get("q"), ErrorType: q.Get("error_type"), Topic: q.Get("topic"), Subject: q.Get("subject"),
		Status: q.Get("status"), Field: q.Get("field"), Since: q.Get("since"), Until: q.Get("until"),
	}}
	var err error
	fq.Filter, err = quarantine.ParseQuery(q, quarantine.QueryOptions{TimeLayouts: browserTimeLayouts})
	fq.Problem = filterProblem(err)
	return fq
}

// selection is the filter as what a reprocess or a discard acts on (which
// has no search, cursor or limit).
func (fq filterQuery) selection() reprocess.Filter {
	f := fq.Filter
	return reprocess.Filter{
		ErrorType: f.ErrorType, Field: f.Field, Topic: f.Topic, Subject: f.Subject,
		Status: f.Status, Since: f.Since, Until: f.Until,
	}
}

// filterProblem words quarantine.ParseQuery's error for the page; "" for
// none.
func filterProblem(err error) string {
	var qe *quarantine.QueryError
	if !errors.As(err, &qe) {
		return ""
	}
	switch qe.Reason {
	case quarantine.QueryUnknown:
		if qe.Param == "status" {
			return fmt.Sprintf("Unknown status %q.", qe.Value)
		}
		return fmt.Sprintf("Unknown error type %q.", qe.Value)
	case quarantine.QueryNotATime:
		label := map[string]string{"since": "From", "until": "To"}[qe.Param]
		return fmt.Sprintf("%s: %q is not a time such as 2026-11-03T10:00 (UTC).", label, qe.Value)
	case quarantine.QuerySinceAfterUntil:
		return "From is after To."
	default:
		return qe.Error()
	}
}

type errorView struct {
	N int
	record.Violation
}

type headerView struct {
	Key   string
	Value bytesView
}

type detailData struct {
	Entry        quarantine.Entry
	Key          bytesView
	Errors       []errorView
	Payload      payloadView
	PayloadError string
	// Corrected is the corrected payload, when the record has one
	// (Entry.Corrected); Payload stays the original.
	Corrected *payloadView
	// Editable: the payload that would be edited (the corrected one, else
	// the original) is text, so the UI offers to edit it; Binary: it is
	// not, so the UI says why it does not.
	Editable, Binary bool
	Headers          []headerView
	History          []HistoryEvent
	HasHistory       bool
	Actions          Actions
}

func (u *ui) quarantineDetail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	e, err := u.opts.Quarantine.Get(r.Context(), id)
	if errors.Is(err, quarantine.ErrNotFound) {
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("No quarantined record has the id %q.", id))
		return
	}
	if err != nil {
		u.internalError(w, r, "getting quarantine entry", err)
		return
	}
	d := detailData{Entry: e, Key: newBytesView(e.Key), Actions: u.actions(r.Context())}
	for i, v := range e.Errors {
		d.Errors = append(d.Errors, errorView{N: i + 1, Violation: v})
	}
	p, err := u.opts.Payloads.Read(r.Context(), e.Payload)
	switch {
	case err == nil:
		d.Payload = newPayloadView(p.Value, e.Errors)
		d.Editable = editableText(p.Value)
		d.Binary = !d.Editable
		for _, h := range p.Headers {
			d.Headers = append(d.Headers, headerView{Key: h.Key, Value: newBytesView(h.Value)})
		}
	case errors.Is(err, quarantine.ErrNotFound):
		d.PayloadError = "The payload is not in the payload store (yet: a spool may still hold it)."
	case errors.Is(err, quarantine.ErrCorrupt):
		u.log.ErrorContext(r.Context(), "reading quarantined payload", "id", id, "ref", e.Payload, "err", err)
		d.PayloadError = "The stored payload is damaged; the error has been logged."
	default:
		u.internalError(w, r, "reading quarantined payload", err)
		return
	}
	if e.Corrected && u.opts.Reprocess != nil {
		v, err := u.opts.Reprocess.Correction(r.Context(), id)
		switch {
		case err == nil:
			cv := newPayloadView(v, nil)
			d.Corrected, d.Editable = &cv, editableText(v)
			d.Binary = !d.Editable
		case errors.Is(err, quarantine.ErrNotFound):
		default:
			u.internalError(w, r, "reading a corrected payload", err)
			return
		}
	}
	if u.opts.History != nil {
		d.HasHistory = true
		d.History, err = u.opts.History.History(r.Context(), id)
		if err != nil {
			u.internalError(w, r, "reading a record's history", err)
			return
		}
	}
	u.render(w, r, http.StatusOK, "detail", "Record "+shortID(id), "quarantine", d)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}
