package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// seedJobs stores jobs as the reprocess service would have: j1 the oldest,
// done; j2 failed; j3 running.
func seedJobs(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	for i, j := range []quarantine.Job{
		{
			ID: "j1", State: quarantine.JobRunning, Filter: json.RawMessage(`{"error_type":"MISSING_FIELD","topic":"raw-events","since":"2026-11-03T09:00:00Z"}`),
			Target: "clean", Reason: "schema v2", Actor: "ana", Role: "operator", Matched: 4, Passed: 3, Failed: 1,
		},
		{ID: "j2", State: quarantine.JobRunning, Filter: json.RawMessage(`{"ids":["aaa","bbb"]}`), Target: "raw", Reason: hostile, Actor: "bob"},
		{ID: "j3", State: quarantine.JobRunning, Filter: json.RawMessage(`{"ids":["aaa"]}`), Target: "clean", Actor: "anonymous", Matched: 10, Passed: 5},
	} {
		j.CreatedAt = at.Add(time.Duration(i) * time.Minute)
		j.UpdatedAt = j.CreatedAt
		require.NoError(t, e.meta.CreateJob(ctx, j))
	}
	done, failed, msg := quarantine.JobDone, quarantine.JobFailed, "kafka down"
	require.NoError(t, e.meta.UpdateJob(ctx, "j1", quarantine.JobUpdate{State: &done}))
	require.NoError(t, e.meta.UpdateJob(ctx, "j2", quarantine.JobUpdate{State: &failed, Error: &msg}))
}

func jobRows(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `<tr data-job="`)[1:] {
		id, _, _ := strings.Cut(part, `"`)
		out = append(out, id)
	}
	return out
}

func TestJobsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(nil)
	seedJobs(t, e)
	h := e.handler(func(o *Options) { o.Reprocess = e.service() })

	r := get(t, h, "/reprocess/jobs")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"j3", "j2", "j1"}, jobRows(r.body), "newest first")
	require.Contains(t, r.body, `id="nav-jobs"`)
	require.Contains(t, r.body, `hx-trigger="every 2s"`, "j3 runs: the table refreshes")
	require.NotContains(t, r.body, "<script>alert", "a reason is text")
	require.Contains(t, r.body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, r.body, `<span>records <code>2 by id</code></span>`)
	require.Contains(t, r.body, `<span>error type <code>MISSING_FIELD</code></span><span>topic <code>raw-events</code></span><span>quarantined from <code>2026-11-03 09:00:00Z</code></span>`)
	require.Contains(t, r.body, `ana <small>operator</small>`)

	r = get(t, h, "/reprocess/jobs?state=done")
	require.Equal(t, []string{"j1"}, jobRows(r.body))
	require.NotContains(t, r.body, `hx-trigger="every 2s"`, "nothing runs: no refresh")
	r = get(t, h, "/reprocess/jobs?state=failed", "HX-Request", "true")
	require.Equal(t, []string{"j2"}, jobRows(r.body))
	require.NotContains(t, r.body, "<html", "htmx gets the table alone")
	require.Contains(t, get(t, h, "/reprocess/jobs?state=running").body, "j3")

	require.Equal(t, http.StatusBadRequest, get(t, h, "/reprocess/jobs?state=finished").status)
	require.Equal(t, http.StatusBadRequest, get(t, h, "/reprocess/jobs?cursor=nope").status)

	// Paging follows the store's cursor.
	e2 := newEnv(t)
	ctx := context.Background()
	for i := range quarantine.DefaultJobsLimit + 1 {
		require.NoError(t, e2.meta.CreateJob(ctx, quarantine.Job{ID: "p" + string(rune('A'+i%26)) + string(rune('a'+i/26)), State: quarantine.JobDone, CreatedAt: at.Add(time.Duration(i) * time.Second)}))
	}
	h2 := e2.handler(func(o *Options) { o.Reprocess = e2.service() })
	r = get(t, h2, "/reprocess/jobs")
	require.Len(t, jobRows(r.body), quarantine.DefaultJobsLimit)
	_, next, ok := strings.Cut(r.body, `href="/reprocess/jobs?cursor=`)
	require.True(t, ok, "a next page")
	next, _, _ = strings.Cut(next, `"`)
	next = "/reprocess/jobs?cursor=" + strings.ReplaceAll(next, "&amp;", "&")
	require.Len(t, jobRows(get(t, h2, next).body), 1)
}

func TestJobPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(nil)
	seedJobs(t, e)
	h := e.handler(func(o *Options) { o.Reprocess = e.service() })

	r := get(t, h, "/reprocess/jobs/j1")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `<dd id="job-actor">ana <small class="muted">operator</small></dd>`)
	require.Contains(t, r.body, `<dd id="job-reason">schema v2</dd>`, "the reason on its own")
	require.Contains(t, r.body, `<a href="/quarantine?error_type=MISSING_FIELD&amp;since=2026-11-03T09%3A00%3A00Z&amp;topic=raw-events">see them</a>`)
	require.Regexp(t, `<dd id="job-ended">\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ</dd>`, r.body)
	require.Contains(t, r.body, `id="job-duration"`)
	require.Contains(t, r.body, "the clean topic")

	r = get(t, h, "/reprocess/jobs/j2")
	require.Contains(t, r.body, `<dd class="alert">kafka down</dd>`)
	require.Contains(t, r.body, "back to each record's raw topic")
	require.NotContains(t, r.body, "see them", "several ids are not one list")

	r = get(t, h, "/reprocess/jobs/j3")
	require.Contains(t, r.body, `<dd id="job-ended"><span class="muted">still running</span></dd>`)
	require.Contains(t, r.body, ` so far</dd>`)
	require.Contains(t, r.body, `<a href="/quarantine/aaa">see them</a>`)

	require.Equal(t, http.StatusNotFound, get(t, h, "/reprocess/jobs/nope").status)
}

// TestJobsForViewers: a viewer sees the jobs, and is offered no action.
func TestJobsForViewers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(nil)
	seedJobs(t, e)
	h := e.handler(func(o *Options) {
		o.Reprocess = e.service()
		o.MayChange = func(context.Context) bool { return false }
	})
	r := get(t, h, "/reprocess/jobs")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `id="nav-jobs"`)
	require.NotContains(t, r.body, `id="nav-reprocess"`)
	require.Len(t, jobRows(r.body), 3)

	without, _ := fixture(t)
	require.NotContains(t, get(t, without, "/").body, `id="nav-jobs"`, "no reprocessing, no jobs")
	require.Equal(t, http.StatusNotFound, get(t, without, "/reprocess/jobs").status)
}

func TestFmtDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0.0 s", 4700 * time.Millisecond: "4.7 s", 42 * time.Second: "42 s",
		125 * time.Second: "2 min 5 s", 3*time.Hour + 4*time.Minute + 40*time.Second: "3 h 5 min",
	} {
		require.Equal(t, want, fmtDuration(d), d.String())
	}
}
