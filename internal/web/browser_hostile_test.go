package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestBrowserHostilePages: pages of another origin try to read the
// quarantine of a gateway with auth off (the loopback default) and to
// discard a record, in real Chromium. Both fail, whether the page talks to
// the gateway under its own name (cross-origin: the same-origin policy
// hides the answer, the CSRF rule refuses the change) or reaches it under
// the attacker's name after DNS rebinding (same-origin to the browser:
// the Host check refuses both).
//
// The attacker's site is attacker.localhost:PORT, which Chromium resolves
// to 127.0.0.1 by itself (RFC 6761), served by a test server that plays
// the rebound DNS: its own page at /page, and every other path forwarded
// to the gateway with the Host the browser sent, as after the attacker's
// name switched to the gateway's address.
func TestBrowserHostilePages(t *testing.T) {
	exe := chromiumPath(t)
	base, kafkaAddr := gateway(t)
	produce(t, kafkaAddr, event("", "view", `,"card":"4111-SECRET"`)) // MISSING_FIELD
	id := quarantinedID(t, base)

	gwURL, err := url.Parse(base)
	require.NoError(t, err)
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	rebound := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(gwURL)
			r.Out.Host = r.In.Host // what the browser sent: attacker.localhost:PORT
		},
		Transport: transport,
	}
	var page string
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page)
			return
		}
		rebound.ServeHTTP(w, r)
	}))
	t.Cleanup(attacker.Close)
	attackerURL := "http://attacker.localhost:" + strings.TrimPrefix(attacker.URL, "http://127.0.0.1:")

	ctx := browser(t, exe)

	// open serves script as the attacker's page and opens it.
	open := func(t *testing.T, script string) {
		t.Helper()
		page = `<!doctype html><title>cute cats</title><script>
window.__result = {};
(async () => {
` + script + `
})().finally(() => { window.__done = true; });
</script>`
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(attackerURL+"/page")))
	}
	// run opens script and returns what it reported in window.__result
	// once it set window.__done.
	run := func(t *testing.T, script string) map[string]string {
		t.Helper()
		open(t, script)
		eventually(t, ctx, `window.__done === true`, true, "the attacker's script ran")
		raw := evalJS[string](t, ctx, `JSON.stringify(window.__result)`)
		var out map[string]string
		require.NoError(t, json.Unmarshal([]byte(raw), &out), raw)
		return out
	}
	const attempt = `
async function attempt(name, url, init) {
  try {
    const r = await fetch(url, init);
    window.__result[name] = r.type === "opaque" ? "opaque" : r.status + " " + await r.text();
  } catch (e) {
    window.__result[name] = "error: " + e.name;
  }
}`

	t.Run("cross-origin", func(t *testing.T) {
		got := run(t, attempt+`
await attempt("read", "`+base+`/api/v1/quarantine");
await attempt("detail", "`+base+`/api/v1/quarantine/`+id+`");
await attempt("discard", "`+base+`/api/v1/quarantine/`+id+`/discard",
  {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"reason":"cats"}'});
`)
		require.Equal(t, "error: TypeError", got["read"], "the same-origin policy hides the answer")
		require.Equal(t, "error: TypeError", got["detail"])
		require.Equal(t, "opaque", got["discard"], "the POST was sent; its answer is hidden")
		requireStatus(t, base, id, "quarantined")

		// The classic form POST, navigating the tab: the answer is the
		// gateway's refusal, so the request reached it.
		open(t, `
const f = document.createElement("form");
f.method = "POST";
f.action = "`+base+`/api/v1/quarantine/`+id+`/discard";
document.documentElement.appendChild(f);
setTimeout(() => f.submit(), 0);
`)
		eventually(t, ctx, `location.origin`, base, "the form's navigation")
		eventually(t, ctx, `document.body.innerText.includes('"csrf"')`, true, "the gateway's 403 csrf")
		requireStatus(t, base, id, "quarantined")
	})

	t.Run("DNS rebinding", func(t *testing.T) {
		got := run(t, attempt+`
await attempt("health", "/healthz");
await attempt("read", "/api/v1/quarantine");
await attempt("detail", "/api/v1/quarantine/`+id+`");
await attempt("ui", "/quarantine");
await attempt("discard", "/api/v1/quarantine/`+id+`/discard",
  {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"reason":"cats"}'});
`)
		// The forwarding works: the probe answers under any name.
		require.True(t, strings.HasPrefix(strings.TrimSpace(got["health"]), `200 {"status":"ok"`), got["health"])
		for _, k := range []string{"read", "detail", "ui", "discard"} {
			require.True(t, strings.HasPrefix(got[k], "403 "), "%s: %s", k, got[k])
			require.Contains(t, got[k], `"host_not_allowed"`, k)
			require.NotContains(t, got[k], "SECRET", k)
		}
		requireStatus(t, base, id, "quarantined")
	})
}

// quarantinedID waits for the one quarantined record and returns its id.
func quarantinedID(t *testing.T, base string) string {
	t.Helper()
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	testwait.For(t, 20*time.Second, "the record to be quarantined", func() error {
		resp, err := http.Get(base + "/api/v1/quarantine")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return err
		}
		if len(list.Items) != 1 {
			return fmt.Errorf("%d records listed", len(list.Items))
		}
		return nil
	})
	return list.Items[0].ID
}

func requireStatus(t *testing.T, base, id, want string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/quarantine/" + id)
	require.NoError(t, err)
	defer resp.Body.Close()
	var rec struct {
		Status string `json:"status"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rec))
	require.Equal(t, want, rec.Status)
}
