package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// reprocessForm is the reprocess page's form: the quarantine browser's
// filters, a target and a reason.
type reprocessForm struct {
	listForm
	Target, Reason string
}

type reprocessData struct {
	Form       reprocessForm
	ErrorTypes []record.ErrorType
	Statuses   []quarantine.Status
	Problem    string
	DryRun     *reprocess.DryRunResult
	// Query carries the form to the confirmation, unchanged.
	Query url.Values
}

// actionableStatuses are the statuses a reprocess filter may name.
var actionableStatuses = []quarantine.Status{quarantine.StatusQuarantined, quarantine.StatusFailedAgain}

func readReprocessForm(q url.Values) (reprocessForm, reprocess.Filter, reprocess.Target, string) {
	fq := readFilter(q)
	form := reprocessForm{listForm: fq.Form, Target: q.Get("target"), Reason: q.Get("reason")}
	target, problem := reprocess.Target(form.Target), fq.Problem
	if problem == "" && target != reprocess.TargetClean && target != reprocess.TargetRaw {
		problem = "Choose where the records that pass go."
	}
	return form, fq.selection(), target, problem
}

func (u *ui) reprocessPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("target") == "" {
		q.Set("target", string(reprocess.TargetClean))
	}
	form, _, _, _ := readReprocessForm(q)
	u.render(w, r, http.StatusOK, "reprocess", "Reprocess", "reprocess", reprocessData{
		Form: form, ErrorTypes: record.ErrorTypes, Statuses: actionableStatuses,
	})
}

// reprocessDryRun answers the form with how many records match and would
// pass now, and a confirmation that starts the job.
func (u *ui) reprocessDryRun(w http.ResponseWriter, r *http.Request) {
	q, ok := u.postForm(w, r)
	if !ok {
		return
	}
	form, f, target, problem := readReprocessForm(q)
	d := reprocessData{Form: form, Problem: problem, Query: q}
	if problem == "" {
		res, err := u.opts.Reprocess.DryRunTo(r.Context(), f, target)
		if !u.reprocessProblem(w, r, &d.Problem, "reprocess dry run", err) {
			return
		}
		audit.Recorded(r.Context()) // a dry run changes nothing: no audit event
		if err == nil {
			d.DryRun = &res
		}
	}
	u.renderFragment(w, r, "reprocess", "dryrun", d)
}

// reprocessStart starts a job over the form's filter and shows its page.
func (u *ui) reprocessStart(w http.ResponseWriter, r *http.Request) {
	q, ok := u.postForm(w, r)
	if !ok {
		return
	}
	_, f, target, problem := readReprocessForm(q)
	u.start(w, r, f, target, q.Get("reason"), problem)
}

// reprocessRecord starts a job over one record.
func (u *ui) reprocessRecord(w http.ResponseWriter, r *http.Request) {
	q, ok := u.postForm(w, r)
	if !ok {
		return
	}
	target := reprocess.Target(q.Get("target"))
	problem := ""
	if target != reprocess.TargetClean && target != reprocess.TargetRaw {
		problem = "Choose where the record goes if it passes."
	}
	u.start(w, r, reprocess.Filter{IDs: []string{r.PathValue("id")}}, target, q.Get("reason"), problem)
}

func (u *ui) start(w http.ResponseWriter, r *http.Request, f reprocess.Filter, target reprocess.Target, reason, problem string) {
	if problem != "" {
		u.errorPage(w, r, http.StatusBadRequest, problem)
		return
	}
	actor, role := u.actor(r.Context())
	job, err := u.opts.Reprocess.Start(r.Context(), reprocess.Request{
		Filter: f, Target: target, Reason: reason, Actor: actor, Role: role,
	})
	var msg string
	if !u.reprocessProblem(w, r, &msg, "starting a reprocess job", err) {
		return
	}
	if msg != "" {
		u.errorPage(w, r, http.StatusBadRequest, msg)
		return
	}
	audit.Recorded(r.Context()) // the service records reprocess.start, each record's change its own
	redirect(w, r, "/reprocess/jobs/"+url.PathEscape(job))
}

func (u *ui) reprocessJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("job")
	j, err := u.opts.Reprocess.Job(r.Context(), id)
	if errors.Is(err, quarantine.ErrNotFound) {
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no reprocess job %q.", id))
		return
	}
	if err != nil {
		u.internalError(w, r, "getting a reprocess job", err)
		return
	}
	d := newJobView(&j, time.Now())
	if isHTMX(r) {
		u.renderFragment(w, r, "job", "progress", d)
		return
	}
	u.render(w, r, http.StatusOK, "job", "Reprocess job", "jobs", d)
}

// discardRecord marks one record discarded, with the form's reason.
func (u *ui) discardRecord(w http.ResponseWriter, r *http.Request) {
	q, ok := u.postForm(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	actor, role := u.actor(r.Context())
	err := u.opts.Reprocess.Discard(r.Context(), id, quarantine.Change{Actor: actor, Role: role, Reason: q.Get("reason")})
	switch {
	case errors.Is(err, quarantine.ErrNotFound):
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("No quarantined record has the id %q.", id))
		return
	case errors.Is(err, quarantine.ErrConflict):
		u.errorPage(w, r, http.StatusConflict, "Only quarantined or failed_again records can be discarded.")
		return
	case err != nil:
		u.internalError(w, r, "discarding a record", err)
		return
	}
	audit.Recorded(r.Context()) // the store records the change with the status
	redirect(w, r, "/quarantine/"+url.PathEscape(id))
}

func (u *ui) postForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if !u.mayChange(r.Context()) {
		u.forbidden(w, r)
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return nil, false
	}
	return r.PostForm, true
}

// reprocessProblem turns a reprocessing error the user can fix into msg
// and answers any other; it returns false when it answered.
func (u *ui) reprocessProblem(w http.ResponseWriter, r *http.Request, msg *string, what string, err error) bool {
	switch {
	case err == nil:
	case errors.Is(err, reprocess.ErrInvalidRequest):
		*msg = strings.TrimSuffix(err.Error(), ": "+reprocess.ErrInvalidRequest.Error())
	case errors.Is(err, reprocess.ErrClosed):
		u.errorPage(w, r, http.StatusServiceUnavailable, "The gateway is shutting down.")
		return false
	default:
		u.internalError(w, r, what, err)
		return false
	}
	return true
}

func (u *ui) actor(ctx context.Context) (name, role string) {
	if u.opts.Principal != nil {
		return u.opts.Principal(ctx)
	}
	return "anonymous", ""
}

// redirect sends the browser to path after a form: a 303, or for htmx its
// own redirect header (it would follow a 303 itself and swap the page in).
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", path)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
