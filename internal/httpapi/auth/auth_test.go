package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
)

const (
	viewerTok   = "viewer-token-0123456789"
	operatorTok = "operator-token-0123456789"
	adminTok    = "admin-token-0123456789"
)

var tokens = []auth.Token{
	{Name: "vera.v", Role: auth.RoleViewer, Secret: viewerTok}, // any name works, dots too
	{Name: "otto", Role: auth.RoleOperator, Secret: operatorTok},
	{Name: "ada", Role: auth.RoleAdmin, Secret: adminTok},
}

// recorder is an in-memory audit.Log for tests: it only records.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) Append(_ context.Context, events ...audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
	return nil
}

func (r *recorder) List(context.Context, audit.Filter) (audit.Page, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return audit.Page{Events: append([]audit.Event(nil), r.events...)}, nil
}

func (r *recorder) all() []audit.Event {
	p, _ := r.List(context.Background(), audit.Filter{})
	return p.Events
}

// echo answers every request with the principal it sees, and 404 for
// /missing.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/missing" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	p := httpapi.PrincipalFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p)
})

type fixture struct {
	srv   *httptest.Server
	audit *recorder
	logs  *bytes.Buffer
}

func newFixture(t *testing.T, toks []auth.Token) *fixture {
	t.Helper()
	f := &fixture{audit: &recorder{}, logs: &bytes.Buffer{}}
	var mu sync.Mutex
	m, err := auth.New(auth.Options{
		Tokens: toks, PublicMetrics: true, Audit: f.audit,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	f.srv = httptest.NewServer(m.Wrap(echo))
	t.Cleanup(f.srv.Close)
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, method, url, token string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, http.NoBody)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	f := newFixture(t, tokens)
	tests := []struct {
		method, path string
		token        string
		want         int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/readyz", "wrong-token-0123456789", 200},
		{"GET", "/metrics", "", 200},
		{"GET", "/api/v1/quarantine", "", 401},
		{"GET", "/api/v1/quarantine", "wrong-token-0123456789", 401},
		{"GET", "/api/v1/quarantine", viewerTok, 200},
		{"GET", "/registry/subjects", viewerTok, 200},
		{"POST", "/api/v1/reprocess", viewerTok, 403},
		{"POST", "/api/v1/reprocess", operatorTok, 200},
		{"POST", "/api/v1/quarantine/abc/reprocess", viewerTok, 403},
		{"POST", "/api/v1/quarantine/abc/reprocess", operatorTok, 200},
		{"POST", "/api/v1/quarantine/abc/discard", operatorTok, 200},
		{"PUT", "/api/v1/quarantine/abc/payload", viewerTok, 403},
		{"PUT", "/api/v1/quarantine/abc/payload", operatorTok, 200},
		{"GET", "/debug/pprof/heap", operatorTok, 403}, // profiles: admins only
		{"GET", "/debug/pprof/heap", adminTok, 200},
		{"POST", "/reprocess/start", viewerTok, 403}, // the web UI's forms
		{"POST", "/reprocess/start", operatorTok, 200},
		{"POST", "/quarantine/abc/discard", viewerTok, 403},
		{"POST", "/quarantine/abc/discard", operatorTok, 200},
		{"POST", "/quarantine/abc/edit", viewerTok, 403},
		{"POST", "/quarantine/abc/edit", operatorTok, 200},
		{"POST", "/api/v1/circuit/raw-events/resume", viewerTok, 403},
		{"POST", "/api/v1/circuit/raw-events/resume", operatorTok, 200},
		{"PUT", "/api/v1/schemas/s/versions/1/state", operatorTok, 403},
		{"PUT", "/api/v1/schemas/s/versions/1/state", adminTok, 200},
		{"GET", "/api/v1/schemas/s/shadow", viewerTok, 200},
		{"POST", "/api/v1/schemas/s/versions/2/promote", operatorTok, 403}, // promotion is a state change
		{"POST", "/api/v1/schemas/s/versions/2/promote", adminTok, 200},
		{"POST", "/schemas/s/versions/2/promote", operatorTok, 403}, // and the UI's form for it
		{"POST", "/schemas/s/versions/2/shadow", adminTok, 200},
		{"POST", "/registry/subjects/s/versions", operatorTok, 403},
		{"POST", "/registry/subjects/s/versions", adminTok, 200},
		{"DELETE", "/registry/subjects/s", operatorTok, 403},
		{"DELETE", "/registry/subjects/s", adminTok, 200},
		{"PUT", "/registry/config", operatorTok, 403},
		{"POST", "/registry/subjects/s", viewerTok, 200},                        // lookup: a read
		{"POST", "/registry/compatibility/subjects/s/versions", viewerTok, 200}, // a check: a read
		{"POST", "/api/v1/something-new", operatorTok, 403},                     // unlisted changes need admin
		{"POST", "/api/v1/reprocess", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.token, func(t *testing.T) {
			t.Parallel()
			resp, body := do(t, tt.method, f.srv.URL+tt.path, tt.token, nil)
			require.Equal(t, tt.want, resp.StatusCode, body)
			switch tt.want {
			case 401:
				require.Equal(t, `Bearer realm="dataquarantine"`, resp.Header.Get("WWW-Authenticate"))
				require.JSONEq(t, `"unauthorized"`, jsonField(t, body, "code"))
			case 403:
				require.JSONEq(t, `"forbidden"`, jsonField(t, body, "code"))
			}
		})
	}
}

func jsonField(t *testing.T, body, name string) string {
	t.Helper()
	var e struct {
		Error map[string]json.RawMessage `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return string(e.Error[name])
}

func TestPrincipalInContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, tokens)
	_, body := do(t, "GET", f.srv.URL+"/api/v1/stats", operatorTok, nil)
	require.JSONEq(t, `{"Name":"otto","Role":"operator"}`, body)
	_, body = do(t, "GET", f.srv.URL+"/api/v1/stats", "", map[string]string{"Cookie": "dq_session=" + sessionOf(t, login(t, f.srv.URL, viewerTok, "/", nil)).Value})
	require.JSONEq(t, `{"Name":"vera.v","Role":"viewer"}`, body)

	off := newFixture(t, nil)
	_, body = do(t, "GET", off.srv.URL+"/api/v1/stats", "", nil)
	require.JSONEq(t, `{"Name":"anonymous","Role":"admin"}`, body)
	resp, _ := do(t, "DELETE", off.srv.URL+"/registry/subjects/s", "", nil)
	require.Equal(t, 200, resp.StatusCode, "auth off: the anonymous admin may do anything")
	resp, _ = do(t, "GET", off.srv.URL+"/login?next=/schemas", "", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "auth off: no login page")
	require.Equal(t, "/schemas", resp.Header.Get("Location"))
}

func TestBrowserIsSentToLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, tokens)
	resp, _ := do(t, "GET", f.srv.URL+"/quarantine?error_type=ENUM_VIOLATION", "", map[string]string{"Accept": "text/html,application/xhtml+xml"})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login?next="+url.QueryEscape("/quarantine?error_type=ENUM_VIOLATION"), resp.Header.Get("Location"))
	// The API answers 401 even to a browser.
	resp, _ = do(t, "GET", f.srv.URL+"/api/v1/quarantine", "", map[string]string{"Accept": "text/html"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp, body := do(t, "GET", f.srv.URL+"/login?next=/quarantine&error=1", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<form method="post" action="/login">`)
	require.Contains(t, body, `name="next" value="/quarantine"`)
	require.Contains(t, body, "not valid")
}

// login posts the login form and returns the answer.
func login(t *testing.T, base, token, next string, hdr map[string]string) *http.Response {
	t.Helper()
	form := url.Values{"token": {token}, "next": {next}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func sessionOf(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "dq_session" {
			return c
		}
	}
	t.Fatal("no dq_session cookie")
	return nil
}

func TestCookieLoginFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, tokens)

	resp := login(t, f.srv.URL, "not-a-token-0123456789", "/schemas", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login?error=1&next=%2Fschemas", resp.Header.Get("Location"))
	require.Empty(t, resp.Cookies())

	resp = login(t, f.srv.URL, operatorTok, "/schemas?x=1", map[string]string{"Origin": f.srv.URL})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/schemas?x=1", resp.Header.Get("Location"))
	c := sessionOf(t, resp)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	require.Equal(t, "/", c.Path)
	require.False(t, c.Secure, "plain HTTP: a Secure cookie would never come back")
	require.NotContains(t, c.Value, operatorTok)
	cookie := map[string]string{"Cookie": "dq_session=" + c.Value}

	_, body := do(t, "GET", f.srv.URL+"/api/v1/stats", "", cookie)
	require.JSONEq(t, `{"Name":"otto","Role":"operator"}`, body)

	// A change with the cookie needs a same-origin marker.
	resp, body = do(t, "POST", f.srv.URL+"/api/v1/reprocess", "", cookie)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.JSONEq(t, `"csrf"`, jsonField(t, body, "code"))
	resp, _ = do(t, "POST", f.srv.URL+"/api/v1/reprocess", "", withHeader(cookie, "Origin", "https://evil.example"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = do(t, "POST", f.srv.URL+"/api/v1/reprocess", "", withHeader(cookie, "Sec-Fetch-Site", "cross-site"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = do(t, "POST", f.srv.URL+"/api/v1/reprocess", "", withHeader(cookie, "Sec-Fetch-Site", "same-origin"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = do(t, "POST", f.srv.URL+"/api/v1/reprocess", "", withHeader(cookie, "Origin", f.srv.URL))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// Still the operator's role: no schema changes.
	resp, _ = do(t, "DELETE", f.srv.URL+"/registry/subjects/s", "", withHeader(cookie, "Origin", f.srv.URL))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	// Bearer requests are not subject to the rule: browsers never add them.
	resp, _ = do(t, "POST", f.srv.URL+"/api/v1/reprocess", operatorTok, map[string]string{"Origin": "https://evil.example"})
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// A tampered cookie is no session.
	resp, _ = do(t, "GET", f.srv.URL+"/api/v1/stats", "", map[string]string{"Cookie": "dq_session=" + tamper(c.Value)})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// Logout clears the cookie.
	resp, _ = do(t, "POST", f.srv.URL+"/logout", "", withHeader(cookie, "Sec-Fetch-Site", "same-origin"))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login", resp.Header.Get("Location"))
	require.Negative(t, sessionOf(t, resp).MaxAge)

	// A cross-site login is refused (login CSRF).
	resp = login(t, f.srv.URL, operatorTok, "/", map[string]string{"Sec-Fetch-Site": "cross-site"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func withHeader(h map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for hk, hv := range h {
		out[hk] = hv
	}
	return out
}

func tamper(v string) string {
	last := v[len(v)-1]
	if last == '0' {
		return v[:len(v)-1] + "1"
	}
	return v[:len(v)-1] + "0"
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m, err := auth.New(auth.Options{Tokens: tokens, SessionTTL: time.Hour, Now: clock, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Wrap(echo))
	t.Cleanup(srv.Close)
	c := sessionOf(t, login(t, srv.URL, viewerTok, "/", nil))
	resp, _ := do(t, "GET", srv.URL+"/api/v1/stats", "", map[string]string{"Cookie": "dq_session=" + c.Value})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	resp, _ = do(t, "GET", srv.URL+"/api/v1/stats", "", map[string]string{"Cookie": "dq_session=" + c.Value})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"":                       "/",
		"/":                      "/",
		"/quarantine?status=new": "/quarantine?status=new",
		"//evil.example":         "/",
		"//evil.example/path":    "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"javascript:alert(1)":    "/",
		"evil.example":           "/",
		"/ok\r\nSet-Cookie: x=1": "/",
		"/%2F%2Fevil.example":    "/%2F%2Fevil.example", // a path on this site
		"\t//evil.example":       "/",
		"/schemas#v2":            "/schemas#v2",
	} {
		require.Equal(t, want, auth.SafeNext(next), "next=%q", next)
	}
}

func TestLoginIsNoOpenRedirect(t *testing.T) {
	t.Parallel()
	f := newFixture(t, tokens)
	for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example"} {
		resp := login(t, f.srv.URL, viewerTok, next, nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/", resp.Header.Get("Location"), "next=%q", next)
	}
}

func TestAuditOfChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t, tokens)
	do(t, "GET", f.srv.URL+"/api/v1/quarantine", viewerTok, nil)            // a read: not audited
	do(t, "POST", f.srv.URL+"/api/v1/reprocess", viewerTok, nil)            // refused: not audited
	do(t, "POST", f.srv.URL+"/missing", adminTok, nil)                      // failed: not audited
	do(t, "POST", f.srv.URL+"/api/v1/circuit/raw/resume", operatorTok, nil) // audited
	evs := f.audit.all()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, "otto", ev.Actor)
	require.Equal(t, "operator", ev.Role)
	require.Equal(t, "http.request", ev.Action)
	require.Equal(t, "POST /api/v1/circuit/raw/resume", ev.Target)
	require.JSONEq(t, `{"method":"POST","path":"/api/v1/circuit/raw/resume","status":200}`, string(ev.Details))
	require.False(t, ev.At.IsZero())

	off := newFixture(t, nil)
	do(t, "POST", off.srv.URL+"/api/v1/reprocess", "", nil)
	evs = off.audit.all()
	require.Len(t, evs, 1)
	require.Equal(t, "anonymous", evs[0].Actor)
	require.Empty(t, evs[0].Role)
}

// Auth off (loopback only): a browser on another site cannot drive the
// gateway; curl and the CLI, which send no Origin, can.
func TestAuthOffRefusesCrossSiteChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	resp, body := do(t, "POST", f.srv.URL+"/api/v1/reprocess", "", map[string]string{"Origin": "https://evil.example"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.JSONEq(t, `"csrf"`, jsonField(t, body, "code"))
	resp, _ = do(t, "POST", f.srv.URL+"/api/v1/reprocess", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestTokensNeverLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, tokens)
	do(t, "GET", f.srv.URL+"/api/v1/stats", "wrong-secret-0123456789", nil)
	do(t, "GET", f.srv.URL+"/api/v1/stats", adminTok, nil)
	login(t, f.srv.URL, "wrong-secret-0123456789", "/", nil)
	login(t, f.srv.URL, adminTok, "/", nil)
	logs := f.logs.String()
	require.Contains(t, logs, "login refused")
	require.Contains(t, logs, "logged in")
	for _, s := range []string{"wrong-secret-0123456789", viewerTok, operatorTok, adminTok} {
		require.NotContains(t, logs, s)
	}
}

func TestNewRefusesBadTokens(t *testing.T) {
	t.Parallel()
	for name, toks := range map[string][]auth.Token{
		"unknown role": {{Name: "a", Role: "root", Secret: "x"}},
		"no name":      {{Role: auth.RoleAdmin, Secret: "x"}},
		"twice":        {{Name: "a", Role: auth.RoleAdmin, Secret: "x"}, {Name: "a", Role: auth.RoleAdmin, Secret: "y"}},
		"no secret":    {{Name: "a", Role: auth.RoleAdmin}},
	} {
		_, err := auth.New(auth.Options{Tokens: toks})
		require.Error(t, err, name)
	}
}

// TestFailedAuthenticationIsLimited: after ten wrong tokens within a minute
// an address gets 429 for the rest of the minute, by bearer and by login
// form alike, even with the right token (a refused guesser learns nothing);
// once the minute is over it is served again.
func TestFailedAuthenticationIsLimited(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m, err := auth.New(auth.Options{Tokens: tokens, Now: clock, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Wrap(echo))
	t.Cleanup(srv.Close)

	for i := range 10 {
		var resp *http.Response
		if i%2 == 0 {
			resp, _ = do(t, "GET", srv.URL+"/api/v1/stats", "wrong-token-0123456789", nil)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "attempt %d", i+1)
		} else {
			resp = login(t, srv.URL, "wrong-token-0123456789", "/", nil)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, "attempt %d", i+1)
			require.Contains(t, resp.Header.Get("Location"), "error=1")
		}
	}
	resp, body := do(t, "GET", srv.URL+"/api/v1/stats", viewerTok, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the right token too, while refused")
	require.Contains(t, body, "too_many_failures")
	require.Equal(t, "61", resp.Header.Get("Retry-After"))
	require.Equal(t, http.StatusTooManyRequests, login(t, srv.URL, viewerTok, "/", nil).StatusCode)

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	resp, _ = do(t, "GET", srv.URL+"/api/v1/stats", viewerTok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = do(t, "GET", srv.URL+"/api/v1/stats", "wrong-token-0123456789", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a new window starts counting again")
}
