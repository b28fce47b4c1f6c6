package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
)

// Token is one API token.
type Token struct {
	// Name identifies the holder: the actor of audit events.
	Name string
	// Role is RoleViewer, RoleOperator or RoleAdmin.
	Role string
	// Secret is the token itself, sent as "Authorization: Bearer <Secret>"
	// or to POST /login. It is never logged.
	Secret string
}

// Options configure the Middleware.
type Options struct {
	// Tokens are the accepted API tokens. Default none: auth is off and
	// every request acts as the anonymous admin.
	Tokens []Token
	// PublicMetrics serves /metrics without a token. Default false.
	PublicMetrics bool
	// Audit receives an event for every change that succeeds (a non-GET
	// request answered 2xx) that its handler did not record more precisely
	// (httpapi.MarkAudited). Default none.
	Audit audit.Log
	// LoginPage draws GET /login (query: next, error=1), replacing the
	// minimal built-in page. Default: the built-in page.
	LoginPage http.Handler
	// SessionTTL is how long a browser session lasts. Default 12h.
	SessionTTL time.Duration
	// Logger logs failed authentications and lockouts (never a token) and
	// audit failures.
	// Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// AllowedHosts are the names, besides loopback ones, that requests may
	// carry in their Host header (host.go): names, IP addresses,
	// ".example.com" for a domain and its subdomains, CIDR prefixes, "*"
	// for any. Default none: with auth off only loopback names are
	// answered; with auth on every Host is.
	AllowedHosts []string
	// Registerer receives auth_failures_total. Default none: not exported.
	Registerer prometheus.Registerer
}

// Middleware authenticates and authorizes every request to the handler it
// wraps (see Wrap).
type Middleware struct {
	tokens        []Token
	publicMetrics bool
	audit         audit.Log
	loginPage     http.Handler
	ttl           time.Duration
	log           *slog.Logger
	now           func() time.Time
	limit         failureLimiter
	hosts         hostPolicy
	failures      *prometheus.CounterVec // by reason; nil when not exported
}

// New returns a Middleware.
func New(opts Options) (*Middleware, error) {
	m := &Middleware{
		tokens:        opts.Tokens,
		publicMetrics: opts.PublicMetrics,
		audit:         opts.Audit,
		loginPage:     opts.LoginPage,
		ttl:           opts.SessionTTL,
		log:           opts.Logger,
		now:           opts.Now,
	}
	seen := make(map[string]bool, len(m.tokens))
	for i, t := range m.tokens {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("auth: token %d: empty name", i)
		case seen[t.Name]:
			return nil, fmt.Errorf("auth: token %d: the name %q is used twice", i, t.Name)
		case rank(t.Role) == 0:
			return nil, fmt.Errorf("auth: token %q: unknown role %q", t.Name, t.Role)
		case t.Secret == "":
			return nil, fmt.Errorf("auth: token %q: empty secret", t.Name)
		}
		seen[t.Name] = true
	}
	var err error
	if m.hosts, err = newHostPolicy(opts.AllowedHosts, m.Enabled()); err != nil {
		return nil, err
	}
	if opts.Registerer != nil {
		m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auth_failures_total",
			Help: "Failed or refused authentications, by reason: invalid_token (a wrong bearer token), invalid_login (a wrong token in the login form), locked_out (refused: too many failures from the client), table_full (refused: a flood of failing clients).",
		}, []string{"reason"})
		for _, r := range []string{reasonInvalidToken, reasonInvalidLogin, reasonLockedOut, reasonTableFull} {
			m.failures.WithLabelValues(r)
		}
		if err := opts.Registerer.Register(m.failures); err != nil {
			return nil, fmt.Errorf("auth: registering auth_failures_total: %w", err)
		}
	}
	if m.loginPage == nil {
		m.loginPage = http.HandlerFunc(fallbackLoginPage)
	}
	if m.ttl <= 0 {
		m.ttl = 12 * time.Hour
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// Enabled reports whether tokens are required.
func (m *Middleware) Enabled() bool { return len(m.tokens) > 0 }

// Wrap returns next behind the Host check (host.go), authentication,
// authorization, the CSRF rule and auditing; it also serves GET and POST
// /login and POST /logout.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostExempt(r.URL.Path) && !m.hosts.allows(r.Host) {
			refuseHost(w, r)
			return
		}
		switch r.URL.Path {
		case loginPath:
			m.serveLogin(w, r)
			return
		case logoutPath:
			m.serveLogout(w, r)
			return
		}
		need := m.required(r)
		p, how, err := m.authenticate(r)
		switch {
		case need.public:
			// Always open: probes and scrapers are never refused, whatever
			// they send.
			next.ServeHTTP(w, r.WithContext(httpapi.WithPrincipal(r.Context(), p)))
			return
		case how == viaBearer || err != nil:
			// A refused client learns nothing more, right token or not.
			key := limitKey(r)
			if m.refuse(w, key) {
				return
			}
			if err != nil {
				m.authFailed(r, key, reasonInvalidToken)
				m.unauthorized(w, "the bearer token is not valid")
				return
			}
		case how == viaNone && m.Enabled():
			if wantsPage(r) {
				http.Redirect(w, r, loginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			m.unauthorized(w, "authentication required: send Authorization: Bearer <token>, or log in at "+loginPath)
			return
		}
		if !safeMethod(r.Method) {
			// A browser sends cookies with cross-site requests; a
			// cookie-authenticated change must come from our own pages.
			// Without auth, a page elsewhere could still drive a browser
			// to a loopback gateway: refuse what a browser marks as
			// cross-site.
			switch {
			case how == viaCookie && !sameOrigin(r):
				writeError(w, http.StatusForbidden, "csrf",
					"cross-site request refused: changes made with a session cookie must come from the gateway's own pages")
				return
			case how == viaNone && crossSite(r):
				writeError(w, http.StatusForbidden, "csrf",
					"cross-site request refused: a web page of another site may not change anything here; "+
						"changes come from the gateway's own pages, or from clients that are not browsers (curl, the CLI)")
				return
			}
		}
		if !Allows(p.Role, need.role) {
			writeError(w, http.StatusForbidden, "forbidden",
				fmt.Sprintf("%s %s needs the %s role; %s has %s", r.Method, r.URL.Path, need.role, p.Name, p.Role))
			return
		}
		r = r.WithContext(httpapi.WithPrincipal(r.Context(), p))
		if safeMethod(r.Method) || m.audit == nil {
			next.ServeHTTP(w, r)
			return
		}
		ctx, audited := audit.WithScope(r.Context())
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if sw.status/100 == 2 && !audited() {
			m.record(r, sw.status)
		}
	})
}

// Reasons of auth_failures_total, besides the limiter's refusals.
const (
	reasonInvalidToken = "invalid_token" // a wrong bearer token
	reasonInvalidLogin = "invalid_login" // a wrong token in the login form
)

// refuse answers 429 when the limiter refuses the client key, and reports
// whether it did. Refusals are counted, not logged: a refused client may
// send as many requests as it likes, and the lockout was logged once.
func (m *Middleware) refuse(w http.ResponseWriter, key string) bool {
	d, why := m.limit.refused(key, m.now())
	if d <= 0 {
		return false
	}
	m.count(why)
	tooMany(w, d)
	return true
}

// authFailed counts, logs and limits a failed authentication of r (never
// its token), and logs the lockout it causes.
func (m *Middleware) authFailed(r *http.Request, key, reason string) {
	m.count(reason)
	msg := "bearer token refused"
	if reason == reasonInvalidLogin {
		msg = "login refused: unknown token"
	}
	m.log.WarnContext(r.Context(), msg, "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
	lockedOut, filled := m.limit.failed(key, m.now())
	if lockedOut {
		m.log.WarnContext(r.Context(), "client locked out after too many failed authentications",
			"remote", r.RemoteAddr, "client", key, "failures", maxFailures, "within", failureWindow)
	}
	if filled {
		m.log.WarnContext(r.Context(), "too many clients failing to authenticate: until the oldest of their windows ends, "+
			"clients with no failure behind them are refused too (bearer tokens and the login form; sessions still work)",
			"clients", m.limit.bound(), "within", failureWindow)
	}
}

func (m *Middleware) count(reason string) {
	if m.failures != nil {
		m.failures.WithLabelValues(reason).Inc()
	}
}

// How a request was authenticated.
type via int

const (
	viaNone   via = iota // no credentials (auth off: the anonymous admin)
	viaBearer            // Authorization: Bearer
	viaCookie            // the session cookie
)

var errBadBearer = errors.New("invalid bearer token")

// authenticate finds the request's principal. Without auth every request is
// the anonymous admin (viaNone). With auth, a request without valid
// credentials gets viaNone and the zero Principal; a wrong bearer token is
// an error.
func (m *Middleware) authenticate(r *http.Request) (httpapi.Principal, via, error) {
	if !m.Enabled() {
		return httpapi.AnonymousAdmin, viaNone, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return httpapi.Principal{}, viaNone, errBadBearer
		}
		t, ok := m.lookup(strings.TrimSpace(tok))
		if !ok {
			return httpapi.Principal{}, viaNone, errBadBearer
		}
		return httpapi.Principal{Name: t.Name, Role: t.Role}, viaBearer, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if t, ok := m.verifySession(c.Value); ok {
			return httpapi.Principal{Name: t.Name, Role: t.Role}, viaCookie, nil
		}
	}
	return httpapi.Principal{}, viaNone, nil
}

// lookup finds the token whose secret is s, comparing in constant time
// against every token so that timing tells nothing about which matched.
func (m *Middleware) lookup(s string) (Token, bool) {
	var found Token
	ok := false
	for _, t := range m.tokens {
		if subtle.ConstantTimeCompare([]byte(s), []byte(t.Secret)) == 1 {
			found, ok = t, true
		}
	}
	return found, ok
}

func (m *Middleware) unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="dataquarantine"`)
	writeError(w, http.StatusUnauthorized, "unauthorized", msg)
}

// wantsPage reports whether r is a browser navigating to a page (which is
// sent to the login page), rather than an API call (which gets a 401).
func wantsPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/registry/") || p == "/metrics" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// sameOrigin reports whether a browser says r comes from the gateway's own
// pages: Sec-Fetch-Site: same-origin, or an Origin naming this host.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// crossSite reports whether a browser marks r as coming from elsewhere.
// Requests without those headers (curl, the CLI) are not.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	return r.Header.Get("Origin") != "" && !sameOrigin(r)
}

// record appends the audit event of a change that succeeded. The change is
// done: a failure to record it is logged, not answered.
func (m *Middleware) record(r *http.Request, status int) {
	target := r.Method + " " + r.URL.Path
	ev := httpapi.AuditEvent(r.Context(), "http.request", target, "",
		map[string]any{"method": r.Method, "path": r.URL.Path, "status": status})
	ev.At = m.now().UTC()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	if err := m.audit.Append(ctx, ev); err != nil {
		m.log.ErrorContext(ctx, "appending to the audit log", "actor", ev.Actor, "target", target, "err", err)
	}
}

// statusWriter records the status a handler writes. It passes Flush on
// (server-sent events) and unwraps for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func writeError(w http.ResponseWriter, status int, code, message string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
