package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

// shadowData is the shadow panel of a subject's page.
type shadowData struct {
	Subject  string
	Report   shadow.SubjectReport
	Versions []shadowVersionView
	// Admin: the user may promote and start or stop shadows.
	Admin bool
	// Message says how the last action went; Problem that it failed.
	Message string
	Problem bool
	// Max is the promote form's percentage.
	Max string
}

type shadowVersionView struct {
	shadow.Report
	Share    float64 // of the recent records, newly rejected
	Top      *shadow.ErrorCount
	Rows     []outcomeRow
	Errors   []errorRow
	Rejected []sampleView
	Accepted []sampleView
}

type outcomeRow struct {
	ID, Label     string
	Recent, Total int64
}

type errorRow struct {
	shadow.ErrorCount
	Share float64 // of the newly rejected records
}

type sampleView struct {
	shadow.Sample
	// Text is the value shown, as text; "" with Binary set when it is
	// not UTF-8.
	Text   string
	Binary bool
}

// outcomeLabels say each outcome in the panel's words.
var outcomeLabels = map[shadow.Outcome]string{
	shadow.NewlyRejected: "newly rejected (passes today, fails the candidate)",
	shadow.NewlyAccepted: "newly accepted (fails today, passes the candidate)",
	shadow.AgreePass:     "both accept",
	shadow.AgreeFail:     "both reject",
}

func newShadowVersionView(r shadow.Report) shadowVersionView {
	v := shadowVersionView{Report: r, Share: r.Recent.NewlyRejectedShare()}
	if len(r.Recent.NewlyRejectedBy) > 0 {
		top := r.Recent.NewlyRejectedBy[0]
		v.Top = &top
	}
	for _, o := range []shadow.Outcome{shadow.NewlyRejected, shadow.NewlyAccepted, shadow.AgreePass, shadow.AgreeFail} {
		v.Rows = append(v.Rows, outcomeRow{ID: string(o), Label: outcomeLabels[o], Recent: r.Recent.Count(o), Total: r.Total.Count(o)})
	}
	for _, e := range r.Recent.NewlyRejectedBy {
		v.Errors = append(v.Errors, errorRow{ErrorCount: e, Share: float64(e.Records) / float64(max(1, r.Recent.NewlyRejected))})
	}
	view := func(ss []shadow.Sample) []sampleView {
		out := make([]sampleView, len(ss))
		for i, s := range ss {
			out[i] = sampleView{Sample: s, Text: string(s.Value), Binary: !utf8.Valid(s.Value)}
			if out[i].Binary {
				out[i].Text = ""
			}
		}
		return out
	}
	v.Rejected, v.Accepted = view(r.Samples[shadow.NewlyRejected]), view(r.Samples[shadow.NewlyAccepted])
	return v
}

// windowLabel says a window in words: "hour", "15 minutes".
func windowLabel(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "hour"
	case d == time.Minute:
		return "minute"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}

// shadowPanel serves the panel: alone for htmx (the subject page loads it
// so), else as a page of its own.
func (u *ui) shadowPanel(w http.ResponseWriter, r *http.Request) {
	u.renderShadow(w, r, shadowData{Max: "1"}, r.URL.Query().Get("window"))
}

func (u *ui) renderShadow(w http.ResponseWriter, r *http.Request, d shadowData, windowParam string) {
	subject := r.PathValue("subject")
	window := shadow.MaxWindow
	if v, err := time.ParseDuration(windowParam); err == nil && v >= time.Minute && v <= shadow.MaxWindow {
		window = v.Truncate(time.Minute)
	}
	rep, err := u.opts.Shadow.ShadowReport(r.Context(), subject, window)
	if errors.Is(err, shadow.ErrNotFound) {
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no schema subject %q.", subject))
		return
	}
	if err != nil {
		u.internalError(w, r, "reading the shadow report", err)
		return
	}
	d.Subject, d.Report, d.Admin = subject, rep, u.mayAdminister(r)
	for _, v := range rep.Versions {
		d.Versions = append(d.Versions, newShadowVersionView(v))
	}
	if isHTMX(r) {
		u.renderFragment(w, r, "shadow", "shadow-panel", d)
		return
	}
	u.render(w, r, http.StatusOK, "shadow", "Shadow evaluation of "+subject, "schemas", d)
}

// shadowForm reads an admin's form, answering (and returning false) when
// the user is not one or the form is unreadable; it also returns the
// version of the path.
func (u *ui) shadowForm(w http.ResponseWriter, r *http.Request) (url.Values, int, bool) {
	if !u.mayAdminister(r) {
		u.errorPage(w, r, http.StatusForbidden, "This needs the admin role.")
		return nil, 0, false
	}
	version, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || version < 1 {
		u.errorPage(w, r, http.StatusNotFound, "There is no such version.")
		return nil, 0, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return nil, 0, false
	}
	return r.PostForm, version, true
}

// shadowPromote promotes a version from the panel's form: max_newly_rejected
// is a percentage. A refusal is shown in the panel with its figure; a
// promotion reloads the page, whose versions now show it enforced.
func (u *ui) shadowPromote(w http.ResponseWriter, r *http.Request) {
	form, version, ok := u.shadowForm(w, r)
	if !ok {
		return
	}
	d := shadowData{Max: form.Get("max_newly_rejected"), Problem: true}
	pctValue, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(d.Max), "%"), 64)
	g := shadow.Guard{MaxNewlyRejected: pctValue / 100, Window: shadow.MaxWindow}
	if err != nil || math.IsNaN(pctValue) || g.Validate() != nil {
		d.Message = "The largest share newly rejected must be a percentage from 0 to 100."
		u.renderShadow(w, r, d, "")
		return
	}
	_, err = u.opts.Shadow.Promote(r.Context(), r.PathValue("subject"), version, g)
	var refused *shadow.RefusedError
	switch {
	case err == nil:
		u.reloadSubject(w, r)
		return
	case errors.As(err, &refused):
		d.Message = "Not promoted: " + err.Error() + "."
	case errors.Is(err, shadow.ErrWrongState), errors.Is(err, shadow.ErrNotFound), errors.Is(err, shadow.ErrNotPermitted):
		d.Message = "Not promoted: " + err.Error() + "."
	default:
		u.internalError(w, r, "promoting a schema version", err)
		return
	}
	u.renderShadow(w, r, d, "")
}

// shadowSet puts a registered version in shadow (on=1) or takes one out,
// back to registered.
func (u *ui) shadowSet(w http.ResponseWriter, r *http.Request) {
	form, version, ok := u.shadowForm(w, r)
	if !ok {
		return
	}
	err := u.opts.Shadow.SetShadow(r.Context(), r.PathValue("subject"), version, form.Get("on") == "1")
	switch {
	case err == nil:
		u.reloadSubject(w, r)
		return
	case errors.Is(err, shadow.ErrWrongState), errors.Is(err, shadow.ErrNotFound), errors.Is(err, shadow.ErrNotPermitted):
		u.renderShadow(w, r, shadowData{Max: "1", Problem: true, Message: "Not changed: " + err.Error() + "."}, "")
	default:
		u.internalError(w, r, "changing a rollout state", err)
	}
}

// reloadSubject answers a state change: the subject's whole page shows
// the new states (htmx reloads it; a plain form is redirected).
func (u *ui) reloadSubject(w http.ResponseWriter, r *http.Request) {
	to := "/schemas/" + url.PathEscape(r.PathValue("subject"))
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
