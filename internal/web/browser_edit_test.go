package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
)

// TestBrowserEditAndReplay: a record quarantined for a bad user_id is
// opened, its payload edited in the browser and saved as its correction,
// then reprocessed: the corrected value reaches the clean topic, the record
// is marked reprocessed, and the original stays on its page.
func TestBrowserEditAndReplay(t *testing.T) {
	exe := chromiumPath(t)
	base, kafkaAddr := gateway(t)
	ctx := browser(t, exe)

	produce(t, kafkaAddr, event("bob", "view"))
	require.Eventually(t, func() bool { return countQuarantined(t, base, "quarantined") == 1 }, 20*time.Second, 50*time.Millisecond)

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
	require.JSONEq(t, `{"user_id":"bob","event_type":"view","timestamp":"2026-11-03T10:00:00Z"}`,
		evalJS[string](t, ctx, `document.getElementById("edit-payload").value`), "the editor holds the original")

	// Several lines: the browser sends them as CRLF, the gateway stores LF.
	fixed := "{\n  \"user_id\": \"USER123456\",\n  \"event_type\": \"view\",\n  \"timestamp\": \"2026-11-03T10:00:00Z\"\n}"
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("edit-payload"), fixed),
		chromedp.SendKeys(chromedp.ID("edit-reason"), "bob is USER123456"),
	))
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
	require.Equal(t, fixed, string(clean[0].Value), "the corrected payload, byte for byte")
	require.Equal(t, []byte("bob"), clean[0].Key)
	require.Equal(t, 1, countQuarantined(t, base, "reprocessed"))

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(recordURL), chromedp.WaitVisible(chromedp.ID("history"))))
	require.Equal(t, "reprocessed", evalJS[string](t, ctx, `document.getElementById("status").textContent`))
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("history").textContent`), "corrected by hand")
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#actions").length`))
	require.Equal(t, 1, evalJS[int](t, ctx, `document.querySelectorAll("#corrected-payload").length`), "the correction stays shown")
}
