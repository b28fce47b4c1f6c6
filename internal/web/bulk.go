package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// The quarantine browser's bulk actions act on the records ticked on the
// page (scope "selected", their ids) or on all that match its filter
// (scope "all"). Each asks first: a reprocess dry run says how many would
// pass, a discard says how many it would drop; the confirmation carries the
// same form on.

// bulkResult is a bulk action's answer.
type bulkResult struct {
	// Op is "reprocess" or "discard".
	Op      string
	Problem string
	// All: the selection is every record that matches the filter.
	All    bool
	DryRun *reprocess.DryRunResult
	// Discard is a discard's count (Done false: what it would discard) or
	// outcome.
	Discard *reprocess.DiscardResult
	Done    bool
	Reason  string
	// Form is the request, carried to the confirmation unchanged.
	Form url.Values
}

// pinned returns form with "all that match" pinned to the records
// quarantined until now (its pinned_until), so that the confirmation acts
// on the records the dry run counted, not on those that arrived since.
func pinned(form url.Values) url.Values {
	if form.Get("scope") != "all" || form.Get("pinned_until") != "" {
		return form
	}
	out := url.Values{}
	for k, vs := range form {
		out[k] = vs
	}
	out.Set("pinned_until", time.Now().UTC().Format(time.RFC3339Nano))
	return out
}

// bulkSelection reads which records a bulk form selects.
func bulkSelection(form url.Values) (reprocess.Filter, bool, string) {
	if form.Get("scope") == "all" {
		if form.Get("q") != "" {
			return reprocess.Filter{}, true, "“All that match” cannot include a text search: tick the records instead."
		}
		fq := readFilter(form)
		if fq.Problem != "" {
			return reprocess.Filter{}, true, fq.Problem
		}
		if st := fq.Filter.Status; st != "" && !st.Actionable() {
			return reprocess.Filter{}, true, fmt.Sprintf("This filter selects %s records: only quarantined or failed_again ones can be reprocessed or discarded.", st)
		}
		f := fq.selection()
		if pin, err := time.Parse(time.RFC3339Nano, form.Get("pinned_until")); err == nil && (f.Until.IsZero() || pin.Before(f.Until)) {
			f.Until = pin
		}
		return f, true, ""
	}
	ids := form["id"]
	switch {
	case len(ids) == 0:
		return reprocess.Filter{}, false, "Tick the records to act on, or choose all that match."
	case len(ids) > reprocess.MaxIDs:
		return reprocess.Filter{}, false, fmt.Sprintf("%d records are ticked; at most %d at a time.", len(ids), reprocess.MaxIDs)
	}
	return reprocess.Filter{IDs: ids}, false, ""
}

// bulkDryRun answers how many of the selected records would pass now, with
// the confirmation that reprocesses them.
func (u *ui) bulkDryRun(w http.ResponseWriter, r *http.Request) {
	form, ok := u.postForm(w, r)
	if !ok {
		return
	}
	form = pinned(form)
	f, all, problem := bulkSelection(form)
	res := &bulkResult{Op: "reprocess", All: all, Problem: problem, Reason: form.Get("reason"), Form: form}
	target := reprocess.Target(form.Get("target"))
	if problem == "" && target != reprocess.TargetClean && target != reprocess.TargetRaw {
		res.Problem = "Choose where the records that pass go."
	}
	if res.Problem == "" {
		dr, err := u.opts.Reprocess.DryRunTo(r.Context(), f, target)
		if !u.reprocessProblem(w, r, &res.Problem, "bulk reprocess dry run", err) {
			return
		}
		if err == nil {
			res.DryRun = &dr
		}
	}
	audit.Recorded(r.Context()) // a dry run changes nothing: no audit event
	u.renderBulk(w, r, form, res)
}

// bulkReprocess starts a job over the selection and shows its page.
func (u *ui) bulkReprocess(w http.ResponseWriter, r *http.Request) {
	form, ok := u.postForm(w, r)
	if !ok {
		return
	}
	f, _, problem := bulkSelection(form)
	target := reprocess.Target(form.Get("target"))
	if problem == "" && target != reprocess.TargetClean && target != reprocess.TargetRaw {
		problem = "Choose where the records that pass go."
	}
	u.start(w, r, f, target, form.Get("reason"), problem)
}

// bulkDiscardCheck answers how many of the selected records a discard
// would drop, with the confirmation that does it.
func (u *ui) bulkDiscardCheck(w http.ResponseWriter, r *http.Request) {
	form, ok := u.postForm(w, r)
	if !ok {
		return
	}
	form = pinned(form)
	f, all, problem := bulkSelection(form)
	res := &bulkResult{Op: "discard", All: all, Problem: problem, Reason: strings.TrimSpace(form.Get("reason")), Form: form}
	if problem == "" && res.Reason == "" {
		res.Problem = "Give a reason: it is recorded with each record discarded."
	}
	if res.Problem == "" {
		dr, err := u.opts.Reprocess.DiscardMatching(r.Context(), f, quarantine.Change{}, true)
		if !u.reprocessProblem(w, r, &res.Problem, "bulk discard count", err) {
			return
		}
		if err == nil {
			res.Discard = &dr
		}
	}
	audit.Recorded(r.Context()) // counting changes nothing
	u.renderBulk(w, r, form, res)
}

// bulkDiscard discards the selection and shows the list again, with what
// was done.
func (u *ui) bulkDiscard(w http.ResponseWriter, r *http.Request) {
	form, ok := u.postForm(w, r)
	if !ok {
		return
	}
	f, all, problem := bulkSelection(form)
	res := &bulkResult{Op: "discard", All: all, Problem: problem, Reason: strings.TrimSpace(form.Get("reason")), Form: form}
	if res.Problem == "" {
		actor, role := u.actor(r.Context())
		dr, err := u.opts.Reprocess.DiscardMatching(r.Context(), f, quarantine.Change{Actor: actor, Role: role, Reason: res.Reason}, false)
		if !u.reprocessProblem(w, r, &res.Problem, "bulk discard", err) {
			return
		}
		if err == nil {
			res.Discard, res.Done = &dr, true
		}
	}
	audit.Recorded(r.Context()) // the store records each record's change
	d, err := u.listPage(r, form, nil)
	if err != nil {
		u.internalError(w, r, "listing quarantine entries", err)
		return
	}
	d.BulkResult = res
	if isHTMX(r) {
		u.renderFragment(w, r, "quarantine", "results", d)
		return
	}
	u.render(w, r, http.StatusOK, "quarantine", "Quarantine", "quarantine", d)
}

// renderBulk shows a bulk action's answer: for htmx the answer alone, in
// place; else the whole browser with it, the selection still ticked.
func (u *ui) renderBulk(w http.ResponseWriter, r *http.Request, form url.Values, res *bulkResult) {
	if isHTMX(r) {
		u.renderFragment(w, r, "quarantine", "bulk-result", res)
		return
	}
	selected := map[string]bool{}
	for _, id := range form["id"] {
		selected[id] = true
	}
	d, err := u.listPage(r, form, selected)
	if err != nil {
		u.internalError(w, r, "listing quarantine entries", err)
		return
	}
	d.BulkResult = res
	u.render(w, r, http.StatusOK, "quarantine", "Quarantine", "quarantine", d)
}
