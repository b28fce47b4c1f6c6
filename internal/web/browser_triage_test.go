package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestBrowserTriage: in the quarantine browser, an operator sees each
// record's key, message and payload, ticks records, dry-runs and
// reprocesses them after a schema fix, discards all that match a filter
// with a reason, and downloads the matching records as CSV, whose formula
// cells are defused.
func TestBrowserTriage(t *testing.T) {
	exe := chromiumPath(t)
	base, kafkaAddr := gateway(t)
	ctx := browser(t, exe)

	formula := event("=cmd|' /C calc'!A0", "view")
	formula.Key = []byte("@SUM(A1)")
	hostile := event("USER000009", "scroll", `,"note":`+fmt.Sprintf("%q", xssScript+xssImg))
	hostile.Key = []byte(xssImg)
	produce(t, kafkaAddr,
		event("bob", "view"), event("alice", "click"), event("eve", "view"), // PATTERN_MISMATCH /user_id
		event("USER000001", "scroll"), event("USER000002", "scroll"), hostile, // ENUM_VIOLATION /event_type
		formula, // PATTERN_MISMATCH too
	)
	testwait.For(t, 20*time.Second, "7 records quarantined", func() error {
		if got := countQuarantined(t, base, ""); got != 7 {
			return fmt.Errorf("%d quarantined", got)
		}
		return nil
	})

	// The fix for the user ids: v2 drops the pattern, and is enforced.
	put(t, base+"/registry/config/user_event", `{"compatibility":"NONE"}`)
	v1, err := os.ReadFile("../config/defaults/user_event.schema.json")
	require.NoError(t, err)
	v2 := strings.Replace(string(v1), `"pattern": "^USER[0-9]{6}$"`, `"minLength": 1`, 1)
	body, err := json.Marshal(map[string]string{"schemaType": "JSON", "schema": v2})
	require.NoError(t, err)
	post(t, base+"/registry/subjects/user_event/versions", string(body))
	put(t, base+"/api/v1/schemas/user_event/versions/2/state", `{"state":"enforced"}`)

	t.Run("columns, count and nothing runs", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/quarantine"),
			chromedp.WaitVisible(chromedp.ID("quarantine-table")),
		))
		require.Equal(t, "7 records match", evalJS[string](t, ctx, `document.getElementById("match-count").textContent.trim()`))
		previews := evalJS[string](t, ctx, `Array.from(document.querySelectorAll("#quarantine-table td.preview")).map(e => e.textContent).join("\n")`)
		require.Contains(t, previews, `"note":"<script>`, "payloads shown as text")
		keys := evalJS[string](t, ctx, `Array.from(document.querySelectorAll("#quarantine-table td.key")).map(e => e.textContent).join("\n")`)
		require.Contains(t, keys, "@SUM(A1)")
		require.Contains(t, keys, "<img src=x")
		require.Contains(t, evalJS[string](t, ctx, `document.querySelector("#quarantine-table td.message").textContent`), "value")
		requireNothingRan(t, ctx)
		// An empty filter box shows a hint, not a value; one in use stands out.
		require.Equal(t, "e.g. raw-events", evalJS[string](t, ctx, `document.getElementById("f-topic").placeholder`))
		require.Equal(t, "italic", evalJS[string](t, ctx, `getComputedStyle(document.getElementById("f-topic"), "::placeholder").fontStyle`))
		idle := evalJS[string](t, ctx, `getComputedStyle(document.getElementById("f-topic")).borderColor`)
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SetValue(chromedp.ID("f-error-type"), "PATTERN_MISMATCH"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("f-error-type").dispatchEvent(new Event("change", {bubbles: true})); undefined`),
		))
		eventually(t, ctx, `document.getElementById("match-count").textContent.trim()`, "4 records match these filters", "filtered count")
		require.NotEqual(t, idle, evalJS[string](t, ctx, `getComputedStyle(document.getElementById("f-error-type")).borderColor`), "the filter in use is marked")
		screenshot(t, ctx, "quarantine")
	})

	t.Run("tick, dry run, reprocess", func(t *testing.T) {
		// Tick the page's four, then untick the formula one.
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("select-page"))))
		eventually(t, ctx, `document.getElementById("selected-count").textContent`, "4", "ticked count")
		require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](
			`Array.from(document.querySelectorAll("#quarantine-table tbody tr")).find(r => r.querySelector("td.key").textContent.includes("@SUM")).querySelector("input.pick").click(); undefined`)))
		eventually(t, ctx, `document.getElementById("selected-count").textContent`, "3", "ticked count")
		require.True(t, evalJS[bool](t, ctx, `document.getElementById("select-page").indeterminate`))
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("bulk-reason"), "user_id pattern relaxed in v2"),
			chromedp.Click(chromedp.ID("bulk-dry-run")),
			chromedp.WaitVisible(chromedp.ID("bulk-dryrun")),
		))
		require.Equal(t, "3", evalJS[string](t, ctx, `document.getElementById("bulk-matched").textContent`))
		require.Equal(t, "3", evalJS[string](t, ctx, `document.getElementById("bulk-pass").textContent`))
		require.Equal(t, "3", evalJS[string](t, ctx, `document.getElementById("selected-count").textContent`), "the selection survives the dry run")
		require.Equal(t, 7, countQuarantined(t, base, "quarantined"), "a dry run changes nothing")
		screenshot(t, ctx, "quarantine-bulk-dry-run")

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("bulk-reprocess")),
			chromedp.WaitVisible(chromedp.ID("job")),
		))
		eventually(t, ctx, `document.getElementById("job-state").textContent`, "done", "job state")
		eventually(t, ctx, `document.getElementById("job-passed").textContent`, "3", "records passed")
		require.Equal(t, 3, countQuarantined(t, base, "reprocessed"))
		clean := apptest.ConsumeExactly(t, kafkaAddr, "validated-events", 3)
		for _, r := range clean {
			require.NotContains(t, string(r.Value), "=cmd", "the unticked record stays")
		}
	})

	t.Run("discard all that match, with a reason", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/quarantine?error_type=ENUM_VIOLATION"),
			chromedp.WaitVisible(chromedp.ID("bulk")),
			chromedp.Click(chromedp.ID("scope-all")),
			chromedp.Click(chromedp.ID("bulk-discard")),
			chromedp.WaitVisible(chromedp.ID("bulk-problem")),
		))
		require.Contains(t, evalJS[string](t, ctx, `document.getElementById("bulk-problem").textContent`), "Give a reason")
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("bulk-reason"), "scroll events from the load test"),
			chromedp.Click(chromedp.ID("bulk-discard")),
			chromedp.WaitVisible(chromedp.ID("bulk-discard-confirm")),
		))
		require.Equal(t, "Discard 3 records", evalJS[string](t, ctx, `document.getElementById("bulk-discard-confirm").textContent`))
		require.Zero(t, countQuarantined(t, base, "discarded"), "nothing discarded yet")
		screenshot(t, ctx, "quarantine-bulk-discard")
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("bulk-discard-confirm")),
			chromedp.WaitVisible(chromedp.ID("bulk-discarded")),
		))
		require.Contains(t, evalJS[string](t, ctx, `document.getElementById("bulk-discarded").textContent`), "Discarded 3 records")
		require.Equal(t, []string{"discarded", "discarded", "discarded"},
			evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#quarantine-table td.status")).map(e => e.textContent.trim())`))
		require.Equal(t, 3, countQuarantined(t, base, "discarded"))
		requireNothingRan(t, ctx)
	})

	t.Run("export CSV", func(t *testing.T) {
		dir := t.TempDir()
		progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/quarantine"),
			chromedp.WaitVisible(chromedp.ID("export-csv")),
			chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
					Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
				})
				return err
			}),
			chromedp.Click(chromedp.ID("export-csv")),
		))
		var file string
		for ev, err := range progress {
			require.NoError(t, err)
			require.NotEqual(t, cdpbrowser.DownloadProgressStateCanceled, ev.State)
			if ev.State == cdpbrowser.DownloadProgressStateCompleted {
				file = filepath.Join(dir, ev.GUID)
				break
			}
		}
		f, err := os.Open(file)
		require.NoError(t, err)
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 1+7, "a header and every record")
		var payloads, keys []string
		for _, row := range rows[1:] {
			keys, payloads = append(keys, row[6]), append(payloads, row[16])
		}
		require.Contains(t, keys, "'@SUM(A1)", "a formula key is defused")
		require.Contains(t, strings.Join(payloads, "\n"), `{"user_id":"=cmd|' /C calc'!A0"`, "inside JSON it is not at the cell's start")
		for _, row := range rows[1:] {
			for _, c := range row {
				require.False(t, c != "" && strings.ContainsRune("=+-@", rune(c[0])), "cell %q", c)
			}
		}
	})
}
