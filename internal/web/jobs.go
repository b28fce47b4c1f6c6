package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// jobStates are the states the Jobs page filters by.
var jobStates = []quarantine.JobState{quarantine.JobRunning, quarantine.JobDone, quarantine.JobFailed}

// jobView is a reprocess job as the Jobs page and a job's page show it.
type jobView struct {
	Job     quarantine.Job
	Running bool
	Done    int64 // records settled: passed, failed or skipped
	Ended   time.Time
	// Duration is how long it ran, or has been running.
	Duration string
	// Selection is the job's filter, one part per field set; empty for
	// every quarantined or failed_again record.
	Selection []selectionPart
	// Records links to the records the selection names, "" when it
	// cannot be shown as one list (several ids).
	Records string
}

type selectionPart struct{ Name, Value string }

func newJobView(j *quarantine.Job, now time.Time) jobView {
	v := jobView{
		Job: *j, Running: j.State == quarantine.JobRunning, Done: j.Passed + j.Failed + j.Skipped,
		Ended: j.FinishedAt(), Duration: fmtDuration(j.Duration(now)),
	}
	var f reprocess.Filter
	if json.Unmarshal(j.Filter, &f) != nil {
		v.Selection = []selectionPart{{"filter", string(j.Filter)}}
		return v
	}
	q := url.Values{}
	add := func(name, param, value string) {
		if value != "" {
			v.Selection = append(v.Selection, selectionPart{name, value})
			q.Set(param, value)
		}
	}
	switch len(f.IDs) {
	case 0:
	case 1:
		v.Selection = append(v.Selection, selectionPart{"record", shortID(f.IDs[0])})
	default:
		v.Selection = append(v.Selection, selectionPart{"records", fmt.Sprintf("%s by id", num(int64(len(f.IDs))))})
	}
	add("error type", "error_type", string(f.ErrorType))
	add("field", "field", f.Field)
	add("topic", "topic", f.Topic)
	add("subject", "subject", f.Subject)
	add("status", "status", string(f.Status))
	if !f.Since.IsZero() {
		add("quarantined from", "since", fmtTime(f.Since))
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		add("quarantined before", "until", fmtTime(f.Until))
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	switch len(f.IDs) {
	case 0:
		v.Records = "/quarantine?" + q.Encode()
	case 1:
		v.Records = "/quarantine/" + url.PathEscape(f.IDs[0])
	}
	return v
}

// fmtDuration shows a job's duration to a useful precision.
func fmtDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
}

type jobsData struct {
	State  string
	States []quarantine.JobState
	Jobs   []jobView
	// AnyRunning: the table refreshes itself while a job runs.
	AnyRunning bool
	// Query is the page's filter and cursor, for the refresh; Next the
	// next page's address, "" on the last.
	Query, Next string
}

// jobsPage lists the reprocess jobs, newest first, filtered by state.
func (u *ui) jobsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := jobsData{State: q.Get("state"), States: jobStates}
	f := quarantine.JobFilter{State: quarantine.JobState(d.State), Cursor: q.Get("cursor")}
	switch f.State {
	case "", quarantine.JobRunning, quarantine.JobDone, quarantine.JobFailed:
	default:
		u.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("There is no job state %q: running, done or failed.", d.State))
		return
	}
	page, err := u.opts.Reprocess.Jobs(r.Context(), f)
	if errors.Is(err, quarantine.ErrBadCursor) {
		u.errorPage(w, r, http.StatusBadRequest, "That page of jobs does not exist: start from the first.")
		return
	}
	if err != nil {
		u.internalError(w, r, "listing reprocess jobs", err)
		return
	}
	now := time.Now()
	for i := range page.Jobs {
		v := newJobView(&page.Jobs[i], now)
		d.AnyRunning = d.AnyRunning || v.Running
		d.Jobs = append(d.Jobs, v)
	}
	d.Query = q.Encode()
	if page.NextCursor != "" {
		next := url.Values{"cursor": {page.NextCursor}}
		if d.State != "" {
			next.Set("state", d.State)
		}
		d.Next = "/reprocess/jobs?" + next.Encode()
	}
	if isHTMX(r) {
		u.renderFragment(w, r, "jobs", "jobs-table", d)
		return
	}
	u.render(w, r, http.StatusOK, "jobs", "Reprocess jobs", "jobs", d)
}
