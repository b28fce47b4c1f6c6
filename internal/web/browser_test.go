package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// The browser tests drive the UI of a real gateway (embedded broker,
// SQLite, files) in real headless Chromium (Debian's chromium package;
// scripts/test-deps.sh installs it). Without chromium they skip, except
// under CI=true, where they fail: a missing browser must not pass for
// tested. Run them alone with `make ui-test`.
//
// Screenshots go to testdata/artifacts/ui/ at the repository root
// (gitignored); the test logs their paths. docs/img/ holds copies.

// artifactsDir is where screenshots are written, relative to this package.
const artifactsDir = "../../testdata/artifacts/ui"

func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DQ_CHROMIUM"); p != "" {
		return p
	}
	return testbackend.Command(t, "apt-get install chromium, or scripts/test-deps.sh; DQ_CHROMIUM names another",
		"chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
}

// gateway starts a gateway on free ports with its data in a temp dir and
// returns its UI's base URL and its Kafka address.
func gateway(t *testing.T, mods ...func(*config.Config)) (base, kafkaAddr string) {
	t.Helper()
	cfg := config.Default()
	for _, m := range mods {
		m(&cfg)
	}
	cfg.DataDir = t.TempDir()
	cfg.Pipeline.BatchSize = 100
	g := apptest.Start(t, cfg)
	return g.URL, g.Kafka
}

func produce(t *testing.T, addr string, recs ...*kgo.Record) {
	t.Helper()
	apptest.Produce(t, addr, "raw-events", recs...)
}

func event(userID, eventType string, extra ...string) *kgo.Record {
	v := fmt.Sprintf(`{"user_id":%q,"event_type":%q,"timestamp":"2026-11-03T10:00:00Z"%s}`, userID, eventType, strings.Join(extra, ""))
	if userID == "" {
		v = fmt.Sprintf(`{"event_type":%q,"timestamp":"2026-11-03T10:00:00Z"}`, eventType)
	}
	return &kgo.Record{Key: []byte(userID), Value: []byte(v)}
}

// browser opens a headless Chromium tab for the test.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx), "starting chromium")
	return ctx
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(artifactsDir, 0o750))
	path := filepath.Join(artifactsDir, name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o600))
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}

// eventually polls the page with a JavaScript expression until it yields
// want.
func eventually[T comparable](t *testing.T, ctx context.Context, expr string, want T, what string) {
	t.Helper()
	testwait.For(t, 30*time.Second, what, func() error {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		if err == nil && got != want {
			err = fmt.Errorf("got %v, want %v", got, want)
		}
		return err
	})
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// The payloads an attacker controls: if any reached the page as markup,
// one of them would set window.__xss, or leave an element behind.
const (
	xssScript = `<script>window.__xss=1</script>`
	xssImg    = `<img src=x onerror="window.__xss=2">`
)

func TestBrowser(t *testing.T) {
	exe := chromiumPath(t) // skip (or fail under CI) before starting anything
	base, kafkaAddr := gateway(t)
	// Opened after the gateway, so closed before it: an open browser holds
	// connections that the gateway's shutdown would wait for.
	ctx := browser(t, exe)

	// The dashboard is open before anything flows: its counters must move
	// by themselves (server-sent events), without a reload.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("processed-total")),
	))
	require.Equal(t, "0", evalJS[string](t, ctx, `document.getElementById("processed-total").textContent`))

	hostile := event("USER000009", xssImg, `,"note":`+fmt.Sprintf("%q", xssScript))
	hostile.Key = []byte(xssScript)
	hostile.Headers = []kgo.RecordHeader{{Key: "origin", Value: []byte(xssImg)}}
	produce(t, kafkaAddr,
		event("USER000001", "view"), event("USER000002", "click"), event("USER000003", "purchase"),
		event("", "view"), event("", "click"), // MISSING_FIELD /user_id
		event("bob", "view"), event("alice", "view"), event("eve", "click"), // PATTERN_MISMATCH /user_id
		hostile, // ENUM_VIOLATION /event_type
	)
	eventually(t, ctx, `document.getElementById("processed-total").textContent`, "9", "dashboard processed counter")
	eventually(t, ctx, `document.getElementById("invalid-total").textContent`, "6", "dashboard quarantined counter")
	eventually(t, ctx, `document.querySelectorAll("#error-mix li").length`, 3, "error types in the mix")
	require.Equal(t, "33.3%", evalJS[string](t, ctx, `document.getElementById("success-rate").textContent`))
	screenshot(t, ctx, "dashboard")

	t.Run("filter by error type", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/quarantine"),
			chromedp.WaitVisible(chromedp.ID("quarantine-table")),
		))
		eventually(t, ctx, `document.querySelectorAll("#quarantine-table tbody tr").length`, 6, "unfiltered rows")
		for _, tc := range []struct {
			errorType string
			rows      int
		}{{"MISSING_FIELD", 2}, {"PATTERN_MISMATCH", 3}, {"ENUM_VIOLATION", 1}} {
			require.NoError(t, chromedp.Do(ctx,
				chromedp.SetValue(chromedp.ID("f-error-type"), tc.errorType),
				chromedp.Evaluate[chromedp.Void](`document.getElementById("f-error-type").dispatchEvent(new Event("change", {bubbles: true})); undefined`),
			))
			// htmx swaps the results in place and pushes the URL.
			eventually(t, ctx, `location.search`, "?error_type="+tc.errorType, "pushed URL")
			eventually(t, ctx, `Array.from(document.querySelectorAll("#quarantine-table tbody tr .badge.type")).map(e => e.textContent).join(",")`,
				strings.Join(slices.Repeat([]string{tc.errorType}, tc.rows), ","), "rows of "+tc.errorType)
			if tc.errorType == "PATTERN_MISMATCH" {
				screenshot(t, ctx, "quarantine-filtered")
			}
		}
	})

	t.Run("record shows its errors at their fields", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/quarantine?error_type=PATTERN_MISMATCH"),
			chromedp.Click(chromedp.CSS("#quarantine-table tbody tr a.open")),
			chromedp.WaitVisible(chromedp.ID("payload")),
		))
		require.Equal(t, "/user_id", evalJS[string](t, ctx, `document.querySelector("#errors li").dataset.field`))
		require.Equal(t, "PATTERN_MISMATCH", evalJS[string](t, ctx, `document.querySelector("#errors li .badge.type").textContent`))
		// Exactly the user_id line of the pretty-printed payload is marked,
		// with a link to error 1.
		require.Equal(t, []string{"/user_id"}, evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#payload .ln.marked")).map(e => e.dataset.path)`))
		require.Equal(t, "#error-1", evalJS[string](t, ctx, `document.querySelector("#payload .ln.marked a.err-mark").getAttribute("href")`))
		screenshot(t, ctx, "record")

		// A missing field marks the object that lacks it.
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/quarantine?error_type=MISSING_FIELD"),
			chromedp.Click(chromedp.CSS("#quarantine-table tbody tr a.open")),
			chromedp.WaitVisible(chromedp.ID("payload")),
		))
		require.Equal(t, "/user_id", evalJS[string](t, ctx, `document.querySelector("#errors li").dataset.field`))
		require.Equal(t, []string{""}, evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#payload .ln.marked")).map(e => e.dataset.path)`))
	})

	t.Run("hostile payload is text and runs nothing", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/quarantine?error_type=ENUM_VIOLATION"),
			chromedp.Click(chromedp.CSS("#quarantine-table tbody tr a.open")),
			chromedp.WaitVisible(chromedp.ID("payload")),
		))
		payload := evalJS[string](t, ctx, `document.getElementById("payload").textContent`)
		require.Contains(t, payload, xssScript)
		require.Contains(t, payload, `<img src=x onerror=\"window.__xss=2\">`)
		require.Contains(t, evalJS[string](t, ctx, `document.getElementById("errors").textContent`), "<img src=x onerror")
		require.Contains(t, evalJS[string](t, ctx, `document.getElementById("headers").textContent`), xssImg)
		require.Contains(t, evalJS[string](t, ctx, `document.body.textContent`), xssScript, "the key")
		requireNothingRan(t, ctx)
		screenshot(t, ctx, "record-hostile")

		// The list and the dashboard show the record too, the dashboard
		// also in its live updates: one of its recent records lands first.
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/quarantine"), chromedp.WaitReady(chromedp.CSS("body"))))
		requireNothingRan(t, ctx)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitReady(chromedp.CSS("body")),
			chromedp.Evaluate[chromedp.Void](`window.__recent = 0;
				document.body.addEventListener("htmx:sseMessage", e => { if (e.detail.type === "recent") window.__recent++ });
				undefined`)))
		eventually(t, ctx, `window.__recent > 0`, true, "a live update of the dashboard's recent records")
		requireNothingRan(t, ctx)
	})

	t.Run("schemas", func(t *testing.T) {
		// A second version, registered through the Confluent-compatible
		// API: the page lists both and explains what changed.
		put(t, base+"/registry/config/user_event", `{"compatibility":"NONE"}`)
		v2, err := os.ReadFile("../config/defaults/user_event.schema.json")
		require.NoError(t, err)
		v2 = []byte(strings.Replace(string(v2), `"enum": ["view", "click", "purchase"]`, `"enum": ["view", "click", "purchase", "signup"]`, 1))
		v2 = []byte(strings.Replace(string(v2), `"properties": {`, `"properties": {
    "country": {"type": "string", "minLength": 2, "maxLength": 2},`, 1))
		body, err := json.Marshal(map[string]string{"schemaType": "JSON", "schema": string(v2)})
		require.NoError(t, err)
		post(t, base+"/registry/subjects/user_event/versions", string(body))

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"/schemas"),
			chromedp.Click(chromedp.CSS(`#subjects a[href="/schemas/user_event"]`)),
			chromedp.WaitVisible(chromedp.ID("versions")),
		))
		require.Equal(t, 2, evalJS[int](t, ctx, `document.querySelectorAll("#versions tbody tr").length`))
		require.Equal(t, "NONE", evalJS[string](t, ctx, `document.querySelector("h2 .badge").textContent`))
		require.Contains(t, evalJS[string](t, ctx, `document.getElementById("changes").textContent`), "ENUM_ARRAY_EXTENDED")
		screenshot(t, ctx, "schema")
	})
}

func put(t *testing.T, url, body string) { t.Helper(); send(t, http.MethodPut, url, body) }

func post(t *testing.T, url, body string) { t.Helper(); send(t, http.MethodPost, url, body) }

func send(t *testing.T, method, url, body string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", method, url, b)
}

// ownScripts are the only scripts a page may hold: the UI's own files.
var ownScripts = []string{
	"/static/vendor/htmx.min.js", "/static/vendor/htmx-ext-sse.min.js",
	"/static/vendor/uPlot.iife.min.js", "/static/dashboard.js", "/static/edit.js", "/static/triage.js",
}

// requireNothingRan checks that no payload script ran and that the DOM has
// no element a payload could have smuggled in: the only scripts are the
// UI's own files (htmx first), there are no images, and no element has an
// inline handler. On a page watchPage watches, it also checks that nothing
// broke the Content-Security-Policy and no script failed.
func requireNothingRan(t *testing.T, ctx context.Context) {
	t.Helper()
	require.Equal(t, "undefined", evalJS[string](t, ctx, `typeof window.__xss`), "a payload script ran")
	scripts := evalJS[[]string](t, ctx, `Array.from(document.scripts).map(s => s.getAttribute("src"))`)
	require.GreaterOrEqual(t, len(scripts), 2)
	require.Equal(t, ownScripts[:2], scripts[:2])
	for _, s := range scripts {
		require.Contains(t, ownScripts, s)
	}
	require.Equal(t, "[]", evalJS[string](t, ctx, `JSON.stringify(window.__csp || [])`), "Content-Security-Policy violations")
	require.Equal(t, "[]", evalJS[string](t, ctx, `JSON.stringify(window.__errors || [])`), "script errors")
	require.Zero(t, evalJS[int](t, ctx, `document.images.length`))
	require.Zero(t, evalJS[int](t, ctx, `Array.from(document.querySelectorAll("*")).filter(e => Array.from(e.attributes).some(a => a.name.startsWith("on"))).length`))
}

// TestBrowserWithAuth: with API tokens configured, the UI asks for one on
// its own login page, then works as without auth, live updates included,
// through the auth middleware.
func TestBrowserWithAuth(t *testing.T) {
	exe := chromiumPath(t)
	const token = "ana-token-0123456789"
	base, kafkaAddr := gateway(t, func(c *config.Config) {
		c.HTTP.Auth.Tokens = []config.Token{{Name: "ana", Role: "viewer", Token: token}}
	})
	ctx := browser(t, exe)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/quarantine?error_type=MISSING_FIELD"),
		chromedp.WaitVisible(chromedp.ID("token")),
	))
	require.Equal(t, "/login", evalJS[string](t, ctx, `location.pathname`))
	// The page is styled (its inline stylesheet passes its CSP hash).
	require.Equal(t, "rgb(17, 24, 39)", evalJS[string](t, ctx, `getComputedStyle(document.body).backgroundColor`))
	screenshot(t, ctx, "login")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("token"), "not-the-token-at-all"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("login-error")),
	))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("who")),
	))
	require.Equal(t, "/quarantine?error_type=MISSING_FIELD", evalJS[string](t, ctx, `location.pathname + location.search`), "back where the browser was going")
	require.Equal(t, "ana viewer", evalJS[string](t, ctx, `document.querySelector("#who span").textContent.trim().replace(/\s+/g, " ")`))
	require.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#nav-reprocess, #reprocess-matching").length`), "a viewer is offered no changes")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("processed-total")),
	))
	produce(t, kafkaAddr, event("USER000001", "view"), event("", "view"))
	eventually(t, ctx, `document.getElementById("processed-total").textContent`, "2", "live counter behind auth")
	eventually(t, ctx, `document.getElementById("invalid-total").textContent`, "1", "live quarantined counter behind auth")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("token")),
	))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/")))
	require.Equal(t, "/login", evalJS[string](t, ctx, `location.pathname`), "logged out")
}
