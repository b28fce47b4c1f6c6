package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

// TestBrowserSchemas: an admin registers user_event v2 (one more event
// type) after its compatibility check under the subject's level, sees the
// change as a line diff judged by that level, enforces v2 (records with
// the new type now pass) and deprecates v1, each change audited under the
// admin's name; a breaking upload is checked and cannot be registered; an
// operator is offered none of it.
func TestBrowserSchemas(t *testing.T) {
	exe := chromiumPath(t)
	const operator, admin = "olga-token-0123456789", "root-token-0123456789"
	base, kafkaAddr := gateway(t, func(c *config.Config) {
		c.HTTP.Auth.Tokens = []config.Token{
			{Name: "olga", Role: "operator", Token: operator},
			{Name: "root", Role: "admin", Token: admin},
		}
	})
	ctx := browser(t, exe)

	login(t, ctx, base, operator)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/schemas/user_event"),
		chromedp.WaitVisible(chromedp.ID("versions")),
	))
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#register-form, [id^=enforce-], [id^=deprecate-]").length`),
		"an operator is offered no schema change")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("token"))))
	login(t, ctx, base, admin)

	t.Run("check, then register", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/schemas/user_event"),
			chromedp.WaitVisible(chromedp.ID("register-form")),
		))
		require.Contains(t, evalJS[string](t, ctx, `document.getElementById("register-schema").value`), `"purchase"`, "the form starts with the latest version")
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`{ const t = document.getElementById("register-schema"); t.value = t.value.replace('"purchase"', '"purchase",\n        "scroll"'); } undefined`),
			chromedp.SendKeys(chromedp.ID("register-label"), "1.1.0"),
			chromedp.Click(chromedp.ID("register-check")),
			chromedp.WaitVisible(chromedp.ID("register-answer")),
		))
		require.Equal(t, "compatible under BACKWARD", evalJS[string](t, ctx, `document.getElementById("verdict-badge").textContent`))
		require.Contains(t, evalJS[string](t, ctx, `document.getElementById("register-answer").textContent`),
			"enum value 'scroll' added at /event_type: readers on the new version still accept every document the old version allows")
		require.Equal(t, []string{`"purchase",`, `"scroll"`}, evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#register-answer tr.add td.code")).map(e => e.textContent.slice(1).trim())`))
		require.Equal(t, 1, versionCount(t, base, admin), "a check registers nothing")
		screenshot(t, ctx, "schema-register")

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("register-submit")),
			chromedp.WaitVisible(chromedp.CSS(`#versions tr[data-version="2"]`)),
		))
		require.Equal(t, "/schemas/user_event?from=1&to=2", evalJS[string](t, ctx, `location.pathname + location.search`))
		require.Equal(t, "1.1.0", evalJS[string](t, ctx, `document.querySelector('#versions tr[data-version="2"] td:nth-child(2)').textContent`))
		// v1 -> v2 judged by BACKWARD: compatible, although it breaks the
		// FORWARD reading, which is shown apart.
		require.Equal(t, "compatible under BACKWARD", evalJS[string](t, ctx, `document.getElementById("verdict-badge").textContent`))
		require.Equal(t, "enum value 'scroll' added at /event_type: readers on the old version reject it",
			evalJS[string](t, ctx, `document.querySelector("#changes li.other-way .summary").textContent`))
		require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#changes li.breaking").length`))
		require.Equal(t, []string{`"purchase"`}, evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#diff tr.del td.code")).map(e => e.textContent.slice(1).trim())`))
		require.Equal(t, []string{`"purchase",`, `"scroll"`}, evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#diff tr.add td.code")).map(e => e.textContent.slice(1).trim())`))
		screenshot(t, ctx, "schema-diff")
	})

	t.Run("a breaking upload cannot be registered", func(t *testing.T) {
		v1, err := os.ReadFile("../config/defaults/user_event.schema.json")
		require.NoError(t, err)
		file := filepath.Join(t.TempDir(), "user_event.v3.json")
		require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(v1), `"required": [`, `"additionalProperties": false, "required": ["country", `, 1)), 0o600))
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/schemas/user_event"),
			chromedp.WaitVisible(chromedp.ID("register-file")),
			chromedp.SetUploadFiles(chromedp.ID("register-file"), []string{file}),
			chromedp.Click(chromedp.ID("register-check")),
			chromedp.WaitVisible(chromedp.ID("register-refused")),
		))
		require.Equal(t, "breaking under BACKWARD", evalJS[string](t, ctx, `document.getElementById("verdict-badge").textContent`))
		require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#register-submit").length`))
		require.Equal(t, 2, versionCount(t, base, admin))
		requireNothingRan(t, ctx)
	})

	t.Run("enforce v2, deprecate v1", func(t *testing.T) {
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
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/schemas/user_event"),
			chromedp.WaitVisible(chromedp.ID("enforce-2")),
			chromedp.Click(chromedp.ID("enforce-2")),
		))
		eventually(t, ctx, `document.querySelector('#versions tr[data-version="2"] .badge').textContent`, "enforced", "v2 enforced")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("deprecate-1"))))
		eventually(t, ctx, `document.querySelector('#versions tr[data-version="1"] .badge').textContent`, "deprecated", "v1 deprecated")

		// The pipeline now takes the new event type.
		produce(t, kafkaAddr, event("USER000001", "scroll"))
		clean := apptest.ConsumeExactly(t, kafkaAddr, "validated-events", 1)
		require.Contains(t, string(clean[0].Value), `"scroll"`)

		var got []string
		for _, target := range []string{"schema/user_event/2", "schema/user_event/1"} {
			for _, ev := range auditEvents(t, base, admin, target) {
				got = append(got, target+" "+ev.Action+" by "+ev.Actor)
			}
		}
		require.Equal(t, []string{
			"schema/user_event/2 schema.state by root", "schema/user_event/2 schema.register by root",
			"schema/user_event/1 schema.state by root",
		}, got)
	})
}

func versionCount(t *testing.T, base, token string) int {
	t.Helper()
	var vs []int
	getJSON(t, base+"/registry/subjects/user_event/versions", token, &vs)
	return len(vs)
}

type auditEvent struct {
	Action string `json:"action"`
	Actor  string `json:"actor"`
}

func auditEvents(t *testing.T, base, token, target string) []auditEvent {
	t.Helper()
	var page struct {
		Events []auditEvent `json:"events"`
	}
	getJSON(t, base+"/api/v1/audit?target="+target, token, &page)
	return page.Events
}

func getJSON(t *testing.T, url, token string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
}
