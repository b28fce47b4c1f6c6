package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	loginPath     = "/login"
	logoutPath    = "/logout"
	sessionCookie = "dq_session"
	sessionSep    = "."
	// maxLoginBody bounds the login form.
	maxLoginBody = 16 << 10
)

// A session cookie is NAME.EXPIRY.MAC: the token's name (base64url), the
// Unix second it expires, and an HMAC-SHA256 of both keyed with the token's
// secret. It carries no secret, any replica with the same tokens accepts
// it, and removing or changing the token ends its sessions.
func (m *Middleware) newSession(t Token) (value string, expires time.Time) {
	expires = m.now().Add(m.ttl)
	name := base64.RawURLEncoding.EncodeToString([]byte(t.Name))
	exp := strconv.FormatInt(expires.Unix(), 10)
	return name + sessionSep + exp + sessionSep + sessionMAC(t.Secret, name, exp), expires
}

func sessionMAC(secret, name, exp string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("dataquarantine session\x00" + name + "\x00" + exp))
	return hex.EncodeToString(h.Sum(nil))
}

// verifySession returns the token a session cookie was made for, if the
// cookie is intact, unexpired, and its token still configured.
func (m *Middleware) verifySession(v string) (Token, bool) {
	parts := strings.Split(v, sessionSep)
	if len(parts) != 3 {
		return Token{}, false
	}
	nameB, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return Token{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || m.now().Unix() >= exp {
		return Token{}, false
	}
	for _, t := range m.tokens {
		if t.Name == string(nameB) {
			want := sessionMAC(t.Secret, parts[0], parts[1])
			return t, hmac.Equal([]byte(want), []byte(parts[2]))
		}
	}
	return Token{}, false
}

func (m *Middleware) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int, expires time.Time) {
	// Secure only over TLS: on plain HTTP (loopback, or TLS ended at a
	// proxy) a Secure cookie would never come back.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: see above

		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// serveLogin draws the login page (GET) or checks a token and starts a
// session (POST, form fields token and next).
func (m *Middleware) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if !m.Enabled() {
			// Nothing to log in to: go where the browser was going.
			http.Redirect(w, r, SafeNext(r.URL.Query().Get("next")), http.StatusSeeOther) //nolint:gosec // G710: SafeNext
			return
		}
		m.loginPage.ServeHTTP(w, r)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" is not allowed on "+loginPath)
		return
	}
	if crossSite(r) {
		// Login CSRF: a page elsewhere logging the browser in as someone.
		writeError(w, http.StatusForbidden, "csrf", "cross-site login refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_parameter", "the login form could not be read")
		return
	}
	next := SafeNext(r.PostForm.Get("next"))
	if !m.Enabled() {
		http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // G710: next passed SafeNext: a local path
		return
	}
	key := limitKey(r)
	if m.refuse(w, key) {
		return
	}
	t, ok := m.lookup(strings.TrimSpace(r.PostForm.Get("token")))
	if !ok {
		m.authFailed(r, key, reasonInvalidLogin)
		q := url.Values{"error": {"1"}}
		if next != "/" {
			q.Set("next", next)
		}
		http.Redirect(w, r, loginPath+"?"+q.Encode(), http.StatusSeeOther)
		return
	}
	value, expires := m.newSession(t)
	m.setCookie(w, r, value, int(m.ttl/time.Second), expires)
	m.log.InfoContext(r.Context(), "logged in", "name", t.Name, "role", t.Role, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // G710: next passed SafeNext: a local path
}

// serveLogout ends the browser's session (POST only: a link must not log
// anyone out).
func (m *Middleware) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" is not allowed on "+logoutPath)
		return
	}
	if crossSite(r) {
		writeError(w, http.StatusForbidden, "csrf", "cross-site logout refused")
		return
	}
	m.setCookie(w, r, "", -1, time.Unix(1, 0))
	http.Redirect(w, r, loginPath, http.StatusSeeOther)
}

// SafeNext returns next if it is a path on this site ("/quarantine?x=1"),
// else "/": never another site ("//evil.example", "https://...",
// "/\evil.example"), so the login form is no open redirect.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return "/"
	}
	if strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\\\r\n\t\x00") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

var loginTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · DataQuarantine</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;display:flex;min-height:100vh;margin:0;align-items:center;justify-content:center}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);width:22rem}
h1{font-size:1.25rem;margin-top:0}
input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;margin:.5rem 0 1rem}
button{padding:.5rem 1rem}
.error{color:#b00020}
</style>
</head>
<body>
<form method="post" action="/login">
<h1>DataQuarantine</h1>
{{if .Error}}<p class="error" role="alert">That token is not valid.</p>{{end}}
<label for="token">API token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{{.Next}}">
<button type="submit">Log in</button>
</form>
</body>
</html>
`))

// fallbackLoginPage is the minimal login page, for when the web UI provides
// none (Options.LoginPage).
func fallbackLoginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	_ = loginTmpl.Execute(w, struct {
		Error bool
		Next  string
	}{q.Get("error") != "", SafeNext(q.Get("next"))})
}
