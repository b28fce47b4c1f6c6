package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/config"
)

// TestBrowserResumeCircuit: a flood of invalid records opens the breaker;
// a viewer sees it open with no Resume button; an operator sees the
// button, confirms, and the breaker closes, through the session cookie and
// the same-origin check.
func TestBrowserResumeCircuit(t *testing.T) {
	exe := chromiumPath(t)
	const viewer, operator = "vic-token-0123456789", "olga-token-0123456789"
	base, kafkaAddr := gateway(t, func(c *config.Config) {
		c.HTTP.Auth.Tokens = []config.Token{
			{Name: "vic", Role: "viewer", Token: viewer},
			{Name: "olga", Role: "operator", Token: operator},
		}
		c.Circuit.MinRecords = 5
	})
	ctx := browser(t, exe)

	login(t, ctx, base, viewer)
	for range 10 {
		produce(t, kafkaAddr, event("", "view")) // MISSING_FIELD: all invalid
	}
	eventually(t, ctx, `document.querySelectorAll(".circuits .circuit-open").length`, 1, "breaker open")
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("button.resume").length`), "a viewer gets no Resume")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("token"))))
	login(t, ctx, base, operator)
	eventually(t, ctx, `document.querySelectorAll("button.resume").length`, 1, "an operator's Resume button")
	screenshot(t, ctx, "dashboard-resume")

	// hx-confirm asks first: accept.
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dialogs := chromedp.Events(dctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(dctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("button.resume"))))
	eventually(t, ctx, `document.querySelectorAll(".circuits .circuit-closed").length`, 1, "breaker closed")
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("button.resume").length`))
	eventually(t, ctx, `document.getElementById("processed-total").textContent`, "10", "what the pause held back flows")
}

// login logs in with token on the login page the dashboard sends to.
func login(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("processed-total")),
	))
}
