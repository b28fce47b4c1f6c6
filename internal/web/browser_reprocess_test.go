package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestBrowserReprocess: records quarantined for a too strict pattern; the
// schema is fixed (a v2 without it, enforced); the UI's dry run says they
// would pass; reprocessing them publishes them to the clean topic and marks
// them reprocessed, with the change in each record's history.
func TestBrowserReprocess(t *testing.T) {
	exe := chromiumPath(t)
	base, kafkaAddr := gateway(t)
	ctx := browser(t, exe)

	produce(t, kafkaAddr, event("bob", "view"), event("alice", "click"), event("eve", "view"), event("", "view"))
	testwait.For(t, 20*time.Second, "4 records quarantined", func() error {
		if got := countQuarantined(t, base, ""); got != 4 {
			return fmt.Errorf("%d quarantined", got)
		}
		return nil
	})

	// The fix: v2 drops user_id's pattern, and is enforced.
	put(t, base+"/registry/config/user_event", `{"compatibility":"NONE"}`)
	v1, err := os.ReadFile("../config/defaults/user_event.schema.json")
	require.NoError(t, err)
	v2 := strings.Replace(string(v1), `"pattern": "^USER[0-9]{6}$"`, `"minLength": 1`, 1)
	require.NotEqual(t, string(v1), v2)
	body, err := json.Marshal(map[string]string{"schemaType": "JSON", "schema": v2})
	require.NoError(t, err)
	post(t, base+"/registry/subjects/user_event/versions", string(body))
	put(t, base+"/api/v1/schemas/user_event/versions/2/state", `{"state":"enforced"}`)

	// From the quarantine browser, filtered, to the reprocess page.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/quarantine?error_type=PATTERN_MISMATCH"),
		chromedp.WaitVisible(chromedp.ID("quarantine-table")),
		chromedp.Click(chromedp.ID("reprocess-matching")),
		chromedp.WaitVisible(chromedp.ID("reprocess-form")),
	))
	require.Equal(t, "PATTERN_MISMATCH", evalJS[string](t, ctx, `document.getElementById("r-error-type").value`))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("r-reason"), "user_id pattern relaxed in v2"),
		chromedp.Click(chromedp.ID("dry-run")),
		chromedp.WaitVisible(chromedp.ID("dryrun-result")),
	))
	require.Equal(t, "3", evalJS[string](t, ctx, `document.getElementById("dry-matched").textContent`))
	require.Equal(t, "3", evalJS[string](t, ctx, `document.getElementById("dry-pass").textContent`))
	require.Equal(t, "0", evalJS[string](t, ctx, `document.getElementById("dry-fail").textContent`))
	require.Equal(t, 4, countQuarantined(t, base, "quarantined"), "a dry run changes nothing")
	screenshot(t, ctx, "reprocess-dry-run")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("confirm-reprocess")),
		chromedp.WaitVisible(chromedp.ID("job")),
	))
	eventually(t, ctx, `document.getElementById("job-state").textContent`, "done", "job state")
	eventually(t, ctx, `document.getElementById("job-passed").textContent`, "3", "records passed")
	// Who, why, what and when, each on its own line.
	require.Equal(t, "anonymous", evalJS[string](t, ctx, `document.getElementById("job-actor").textContent`))
	require.Equal(t, "user_id pattern relaxed in v2", evalJS[string](t, ctx, `document.getElementById("job-reason").textContent`))
	// The job took the records quarantined before it started.
	require.Regexp(t, `^error type PATTERN_MISMATCH quarantined before \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ see them$`, evalJS[string](t, ctx, `document.getElementById("job-selection").textContent.trim().replace(/\s+/g, " ")`))
	require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`, evalJS[string](t, ctx, `document.getElementById("job-ended").textContent`))
	require.Regexp(t, `^\d+\.\d s$`, evalJS[string](t, ctx, `document.getElementById("job-duration").textContent`))
	screenshot(t, ctx, "reprocess-job")
	firstJob := evalJS[string](t, ctx, `location.pathname.split("/").pop()`)

	require.Equal(t, 3, countQuarantined(t, base, "reprocessed"))
	require.Equal(t, 1, countQuarantined(t, base, "quarantined"), "the missing field still fails")
	clean := apptest.ConsumeExactly(t, kafkaAddr, "validated-events", 3)
	for _, r := range clean {
		require.Contains(t, string(r.Value), `"user_id"`)
	}

	// The record's page shows the change, and offers no more actions.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/quarantine?status=reprocessed"),
		chromedp.Click(chromedp.CSS("#quarantine-table tbody tr a.open")),
		chromedp.WaitVisible(chromedp.ID("history")),
	))
	require.Equal(t, "reprocessed", evalJS[string](t, ctx, `document.getElementById("status").textContent`))
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("history").textContent`), "user_id pattern relaxed in v2")
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#actions").length`))

	// A second job, for the record that still fails: the Jobs page lists
	// both, newest first, and filters them by state.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/quarantine?status=quarantined"),
		chromedp.Click(chromedp.CSS("#quarantine-table tbody tr a.open")),
		chromedp.WaitVisible(chromedp.ID("action-reprocess")),
		chromedp.SendKeys(chromedp.CSS("#action-reprocess input[name=reason]"), "<b>try</b> again"),
		chromedp.Click(chromedp.CSS("#action-reprocess button")),
		chromedp.WaitVisible(chromedp.ID("job")),
	))
	eventually(t, ctx, `document.getElementById("job-state").textContent`, "done", "second job")
	secondJob := evalJS[string](t, ctx, `location.pathname.split("/").pop()`)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("nav-jobs")),
		chromedp.WaitVisible(chromedp.ID("jobs-table")),
	))
	rows := `Array.from(document.querySelectorAll("#jobs-table tbody tr")).map(r => r.dataset.job).join(",")`
	require.Equal(t, secondJob+","+firstJob, evalJS[string](t, ctx, rows), "newest first")
	require.Equal(t, []string{"<b>try</b> again", "user_id pattern relaxed in v2"},
		evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#jobs-table .job-reason")).map(e => e.textContent)`))
	require.Equal(t, []string{"anonymous", "anonymous"},
		evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#jobs-table .job-actor")).map(e => e.textContent)`))
	require.Contains(t, evalJS[string](t, ctx, `document.querySelector("#jobs-table tbody tr:last-child .job-progress").textContent`), "3 passed · 0 failed again of 3")
	requireNothingRan(t, ctx)
	screenshot(t, ctx, "jobs")

	for _, tc := range []struct{ state, want string }{{"running", ""}, {"done", secondJob + "," + firstJob}, {"failed", ""}} {
		require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("j-state"), tc.state)))
		eventually(t, ctx, `location.search`, "?state="+tc.state, "pushed URL")
		eventually(t, ctx, rows, tc.want, tc.state+" jobs")
		if tc.want == "" {
			require.Equal(t, "No "+tc.state+" job.", evalJS[string](t, ctx, `document.getElementById("jobs-empty").textContent`))
		}
	}
}

func countQuarantined(t *testing.T, base, status string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/quarantine?status=" + status)
	require.NoError(t, err)
	defer resp.Body.Close()
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	return len(list.Items)
}
