package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestBrowserEditAndReplay: a record quarantined for a bad user_id is
// opened, its payload edited in the browser and saved as its correction,
// then reprocessed: the corrected value reaches the clean topic, the record
// is marked reprocessed, and the original stays on its page.
func TestBrowserEditAndReplay(t *testing.T) {
	exe := chromiumPath(t)
	base, kafkaAddr := gateway(t)
	ctx := browser(t, exe)
	watchPage(t, ctx)

	produce(t, kafkaAddr, event("bob", "view"))
	testwait.For(t, 20*time.Second, "1 records quarantined", func() error {
		if got := countQuarantined(t, base, "quarantined"); got != 1 {
			return fmt.Errorf("%d quarantined", got)
		}
		return nil
	})

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/quarantine"),
		chromedp.Click(chromedp.CSS("#quarantine-table tbody tr a.open")),
		chromedp.WaitVisible(chromedp.ID("action-edit")),
	))
	recordURL := evalJS[string](t, ctx, `location.href`)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("action-edit")),
		chromedp.WaitVisible(chromedp.ID("edit-payload")),
	))
	// The editor holds the payload indented, members in their order, with
	// line numbers.
	require.Equal(t, "{\n  \"user_id\": \"bob\",\n  \"event_type\": \"view\",\n  \"timestamp\": \"2026-11-03T10:00:00Z\"\n}",
		evalJS[string](t, ctx, `document.getElementById("edit-payload").value`), "the editor holds the original, indented")
	require.Equal(t, "1,2,3,4,5", evalJS[string](t, ctx, `Array.from(document.querySelectorAll("#edit-gutter span")).map(s => s.textContent).join(",")`))
	require.True(t, evalJS[bool](t, ctx, `document.getElementById("edit-compact").checked`), "it came on one line: saved so")

	// Validate as it is: the violation, on its line, in the list and the
	// gutter.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("edit-validate")),
		chromedp.WaitVisible(chromedp.ID("check-errors")),
	))
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("check-verdict").textContent`), "Fails user_event version 1: 1 violation")
	require.Equal(t, "PATTERN_MISMATCH line 2 /user_id", evalJS[string](t, ctx,
		`Array.from(document.querySelectorAll("#check-errors li > :not(.msg)")).map(e => e.textContent).join(" ")`))
	eventually(t, ctx, `Array.from(document.querySelectorAll("#edit-gutter span.err")).map(s => s.textContent).join(",")`, "2", "marked line")
	require.True(t, strings.HasSuffix(evalJS[string](t, ctx, `location.pathname`), "/edit"), "validating stays on the page")
	// "line 2" selects that line.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#check-errors a.goto"))))
	require.Equal(t, `  "user_id": "bob",`, evalJS[string](t, ctx,
		`(a => a.value.slice(a.selectionStart, a.selectionEnd))(document.getElementById("edit-payload"))`))
	screenshot(t, ctx, "edit-payload-invalid")

	// Fixed, validated again, saved.
	fixed := "{\n  \"user_id\": \"USER123456\",\n  \"event_type\": \"view\",\n  \"timestamp\": \"2026-11-03T10:00:00Z\"\n}"
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("edit-payload"), fixed),
		chromedp.SendKeys(chromedp.ID("edit-reason"), "bob is USER123456"),
		chromedp.Click(chromedp.ID("edit-validate")),
		chromedp.WaitVisible(chromedp.CSS("#edit-check .check-ok")),
	))
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("check-verdict").textContent`), "Valid against user_event version 1")
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#edit-gutter span.err").length`), "no line marked")
	requireNothingRan(t, ctx)
	screenshot(t, ctx, "edit-payload")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("edit-save")),
		chromedp.WaitVisible(chromedp.ID("corrected-badge")),
	))
	require.Equal(t, "quarantined", evalJS[string](t, ctx, `document.getElementById("status").textContent`))
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("corrected-payload").textContent`), `"USER123456"`)
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("payload").textContent`), `"bob"`, "the original stays")
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("history").textContent`), "bob is USER123456")
	screenshot(t, ctx, "record-corrected")

	// Reprocess it from its page: the corrected payload passes.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#action-reprocess input[name=reason]"), "corrected by hand"),
		chromedp.Click(chromedp.CSS("#action-reprocess button")),
		chromedp.WaitVisible(chromedp.ID("job")),
	))
	eventually(t, ctx, `document.getElementById("job-state").textContent`, "done", "job state")
	eventually(t, ctx, `document.getElementById("job-passed").textContent`, "1", "records passed")

	clean := apptest.ConsumeExactly(t, kafkaAddr, "validated-events", 1)
	require.Equal(t, `{"user_id":"USER123456","event_type":"view","timestamp":"2026-11-03T10:00:00Z"}`, string(clean[0].Value),
		"the corrected payload, on one line as the original came, byte for byte")
	require.Equal(t, []byte("bob"), clean[0].Key)
	require.Equal(t, 1, countQuarantined(t, base, "reprocessed"))

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(recordURL), chromedp.WaitVisible(chromedp.ID("history"))))
	require.Equal(t, "reprocessed", evalJS[string](t, ctx, `document.getElementById("status").textContent`))
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("history").textContent`), "corrected by hand")
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#actions").length`))
	require.Equal(t, 1, evalJS[int](t, ctx, `document.querySelectorAll("#corrected-payload").length`), "the correction stays shown")
}
