package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestBrowserShadow: v2 (user_event with a required session_id) is put in
// shadow from the schema page by an admin; the panel says what it would
// newly reject, with samples shown as text (one of them hostile); a viewer
// sees the panel but no promote button; the promote button refuses with
// the figure while too much would be newly rejected, then, once enough
// traffic carries a session_id, enforces v2.
func TestBrowserShadow(t *testing.T) {
	exe := chromiumPath(t)
	const viewer, admin = "vic-token-0123456789", "ada-token-0123456789"
	base, kafkaAddr := gateway(t, func(c *config.Config) {
		c.HTTP.Auth.Tokens = []config.Token{
			{Name: "vic", Role: "viewer", Token: viewer},
			{Name: "ada", Role: "admin", Token: admin},
		}
	})
	ctx := browser(t, exe)

	authed(t, admin, http.MethodPut, base+"/registry/config/user_event", `{"compatibility":"NONE"}`)
	v1, err := os.ReadFile("../config/defaults/user_event.schema.json")
	require.NoError(t, err)
	v2 := strings.Replace(string(v1), `"required": [`, `"required": ["session_id", `, 1)
	require.NotEqual(t, string(v1), v2)
	body, err := json.Marshal(map[string]string{"schemaType": "JSON", "schema": v2})
	require.NoError(t, err)
	authed(t, admin, http.MethodPost, base+"/registry/subjects/user_event/versions", string(body))

	login(t, ctx, base, admin)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/schemas/user_event"),
		chromedp.WaitVisible(chromedp.ID("shadow-none")),
		chromedp.Click(chromedp.ID("shadow-start-v2")),
		chromedp.WaitVisible(chromedp.ID("shadow-v2")),
	))
	require.Equal(t, "shadow", evalJS[string](t, ctx, `document.querySelector("#versions tbody tr:last-child .badge").textContent`), "the page reloaded with the new state")
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("shadow-summary-v2").textContent`), "v2 is in shadow: no record evaluated in the last hour")

	hostile := event("USER000009", "view", `,"note":`+fmt.Sprintf("%q", xssScript+xssImg))
	produce(t, kafkaAddr,
		event("USER000001", "view", `,"session_id":"s1"`), event("USER000002", "click", `,"session_id":"s2"`),
		event("USER000003", "view", `,"session_id":"s3"`), event("USER000004", "view", `,"session_id":"s4"`),
		event("USER000005", "view", `,"session_id":"s5"`), event("USER000006", "view", `,"session_id":"s6"`),
		event("USER000007", "view", `,"session_id":"s7"`), event("USER000008", "view", `,"session_id":"s8"`),
		event("USER000010", "view"), event("USER000011", "click"), hostile, // no session_id: newly rejected
	)
	waitSeen(t, base, admin, 11)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("shadow-refresh"))))
	summary := "v2 would newly reject 27.3%: 3 of 11 in the last hour; top: MISSING_FIELD at /session_id. Samples."
	eventually(t, ctx, `document.getElementById("shadow-summary-v2").textContent.replace(/\s+/g, " ").trim()`, summary, "the panel's summary")
	require.Equal(t, "3", evalJS[string](t, ctx, `document.querySelector("#shadow-newly_rejected td:nth-child(2)").textContent`))
	require.Equal(t, "8", evalJS[string](t, ctx, `document.querySelector("#shadow-agree_pass td:nth-child(2)").textContent`))
	require.Equal(t, 3, evalJS[int](t, ctx, `document.querySelectorAll("#shadow-rejected-v2 tbody tr").length`))
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("shadow-rejected-v2").textContent`), xssScript, "a hostile payload is shown as text")
	requireNothingRan(t, ctx)
	screenshot(t, ctx, "schema-shadow")
	panel, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("shadow")))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(artifactsDir, "ui-shadow.png"), panel, 0o600)) // docs/img's copy

	// Refused: 27.3% is more than 10%.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("shadow-max-v2"), "10"),
		chromedp.Click(chromedp.ID("shadow-promote-button-v2")),
		chromedp.WaitVisible(chromedp.ID("shadow-message")),
	))
	require.Equal(t,
		"Not promoted: version 2 of user_event would newly reject 27.3% of records (3 of 11 evaluated in the last 1h), above the 10% allowed; top: MISSING_FIELD at /session_id (3 records).",
		evalJS[string](t, ctx, `document.getElementById("shadow-message").textContent`))
	screenshot(t, ctx, "schema-shadow-refused")

	// A viewer sees the report, and no button that changes anything.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("token"))))
	login(t, ctx, base, viewer)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/schemas/user_event"), chromedp.WaitVisible(chromedp.ID("shadow-v2"))))
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#shadow button.btn:not(#shadow-refresh)").length`))
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("token"))))

	// The producers fix their traffic: 30 more with a session_id, 3 of 41
	// (7.3%) newly rejected, under 10%.
	for i := range 30 {
		produce(t, kafkaAddr, event(fmt.Sprintf("USER1%05d", i), "view", `,"session_id":"s"`))
	}
	waitSeen(t, base, admin, 41)
	login(t, ctx, base, admin)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/schemas/user_event"),
		chromedp.WaitVisible(chromedp.ID("shadow-promote-v2")),
		chromedp.SetValue(chromedp.ID("shadow-max-v2"), "10"),
		chromedp.Click(chromedp.ID("shadow-promote-button-v2")),
		chromedp.WaitVisible(chromedp.ID("shadow-none")),
	))
	require.Equal(t, "enforced", evalJS[string](t, ctx, `document.querySelector("#versions tbody tr:last-child .badge").textContent`))
	screenshot(t, ctx, "schema-shadow-promoted")
}

// authed sends an API call with token and requires a 200.
func authed(t *testing.T, token, method, url, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", method, url, b)
	return b
}

// waitSeen waits until the shadow report of user_event's v2 counted n
// records (they are counted as their batch commits).
func waitSeen(t *testing.T, base, token string, n int64) {
	t.Helper()
	testwait.For(t, 20*time.Second, fmt.Sprintf("the shadow to count %d records", n), func() error {
		var rep struct {
			Versions []struct {
				Total struct {
					Seen int64 `json:"seen"`
				} `json:"total"`
			} `json:"versions"`
		}
		b := authed(t, token, http.MethodGet, base+"/api/v1/schemas/user_event/shadow", "")
		if err := json.Unmarshal(b, &rep); err != nil {
			return testwait.Stop(err)
		}
		if len(rep.Versions) != 1 || rep.Versions[0].Total.Seen != n {
			return fmt.Errorf("report %s", b)
		}
		return nil
	})
}
