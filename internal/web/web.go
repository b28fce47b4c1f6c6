package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// QuarantineReader reads quarantine metadata; quarantine.MetadataStore
// satisfies it.
type QuarantineReader interface {
	Get(ctx context.Context, id string) (quarantine.Entry, error)
	List(ctx context.Context, f quarantine.Filter) (quarantine.Page, error)
	Count(ctx context.Context, f quarantine.Filter) (int64, error)
}

// PayloadReader reads quarantined payloads; quarantine.PayloadStore
// satisfies it.
type PayloadReader interface {
	Read(ctx context.Context, ref quarantine.PayloadRef) (quarantine.Payload, error)
	Preview(ctx context.Context, ref quarantine.PayloadRef, n int) (quarantine.Preview, error)
}

// SchemaReader reads the schema registry; *registry.Registry satisfies it.
type SchemaReader interface {
	Subjects(ctx context.Context, deleted bool) ([]string, error)
	Versions(ctx context.Context, subject string, deleted bool) ([]registry.Version, error)
	Get(ctx context.Context, subject string, version int, deleted bool) (registry.SubjectSchema, error)
	Compatibility(ctx context.Context, subject string) (compat.Mode, error)
	Check(ctx context.Context, subject string, version int, format schema.Format, src string) (compat.Result, error)
}

// HistoryEvent is one thing that happened to a quarantined record after it
// was quarantined (reprocessed, discarded, payload edited...).
type HistoryEvent struct {
	At     time.Time
	Actor  string
	Action string
	Detail string
}

// HistoryReader returns a record's history, oldest first; the audit log
// will be one.
type HistoryReader interface {
	History(ctx context.Context, id string) ([]HistoryEvent, error)
}

// Actions says which mutating actions the UI offers. Each shows its button
// only when set, so nothing dead is rendered.
type Actions struct {
	// Reprocess: the Reprocess page (filter, dry run, confirm, progress)
	// and "Reprocess" on a record. Set by Options.Reprocess.
	Reprocess bool
	// Discard: "Discard" on a record. Set by Options.Reprocess.
	Discard bool
	// EditPayload: "Edit payload" on a record with a text payload, opening
	// /quarantine/{id}/edit, which stores a corrected payload. Set by
	// Options.Reprocess.
	EditPayload bool
	// ResumeCircuit: "Resume" on the dashboard beside an open circuit
	// breaker (htmx posts to POST /api/v1/circuit/{topic}/resume). Like the
	// other actions, shown only to users MayChange allows: the dashboard's
	// event stream is rendered once per kind of user.
	ResumeCircuit bool
}

// Options configure the UI handler.
type Options struct {
	// Quarantine reads quarantine metadata. Required.
	Quarantine QuarantineReader
	// Payloads reads quarantined payloads. Required.
	Payloads PayloadReader
	// Live provides the dashboard's statistics. Required.
	Live *live.Sampler
	// Schemas reads the schema registry. Default: none (no Schemas pages).
	Schemas SchemaReader
	// Reprocess reprocesses, discards and corrects records: with it the UI
	// offers all three (Actions.Reprocess, Actions.Discard and
	// Actions.EditPayload). Default: none (the UI only reads).
	Reprocess reprocess.Reprocessor
	// History feeds a record's history section. Default: none (no
	// history shown).
	History HistoryReader
	// Actions enables the mutating actions' buttons. Default: none.
	Actions Actions
	// Shadow feeds the shadow panel of a subject's page (what its versions
	// in shadow would change, promotion, starting and stopping shadows),
	// with Schemas. Default: none (no panel).
	Shadow shadow.Control
	// Principal names who is logged in (a token's name and role), shown
	// with a "Log out" button (POST /logout). Default: none (auth is off).
	Principal func(ctx context.Context) (name, role string)
	// MayChange reports whether the request's user may use the actions
	// (reprocess, discard, edit, resume): without it the UI hides them and
	// refuses their forms with 403 (the auth middleware refuses them
	// first). Default: every user may (auth off).
	MayChange func(ctx context.Context) bool
	// Charts feeds the dashboard's charts (rates, invalid share, error
	// types and lag over 15 min to 24 h): a *live.Recorder or a
	// *live.Prometheus. Default: none (no charts).
	Charts live.HistorySource
	// SchemaChanges registers schema versions and changes their rollout
	// states, from the subject pages (Options.Schemas must be set).
	// Default: none (the schema pages only read).
	SchemaChanges SchemaWriter
	// MayAdminister reports whether the request's user may change schemas
	// (register, enforce, deprecate): without it the UI hides those forms
	// and refuses them with 403 (the auth middleware refuses them first).
	// Default: every user may (auth off).
	MayAdminister func(ctx context.Context) bool
	// EventsInterval is how often the dashboard updates. Default 1s.
	EventsInterval time.Duration
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger
}

// EventsPath is the dashboard's own event stream: server-rendered HTML
// fragments for htmx's SSE extension (the JSON stream for programs is
// live.EventsPattern).
const EventsPath = "/ui/events"

// ContentSecurityPolicy is sent with every UI response: scripts and styles
// only from this origin, no inline ones, no plugins, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

type ui struct {
	opts  Options
	log   *slog.Logger
	pages map[string]*template.Template
	frags *template.Template
	mux   *http.ServeMux
}

// New returns the UI handler, to be mounted at "/".
func New(opts Options) (http.Handler, error) {
	switch {
	case opts.Quarantine == nil:
		return nil, errors.New("web: Options.Quarantine is required")
	case opts.Payloads == nil:
		return nil, errors.New("web: Options.Payloads is required")
	case opts.Live == nil:
		return nil, errors.New("web: Options.Live is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Actions.Reprocess = opts.Reprocess != nil
	opts.Actions.Discard = opts.Reprocess != nil
	opts.Actions.EditPayload = opts.Reprocess != nil
	u := &ui{opts: opts, log: opts.Logger, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	if err := u.parse(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static assets: %w", err)
	}
	u.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(http.FileServerFS(static))))
	u.mux.HandleFunc("GET /{$}", u.dashboard)
	u.mux.Handle("GET "+EventsPath, u.eventStreams())
	if opts.Charts != nil {
		u.mux.HandleFunc("GET "+HistoryPath, u.historyJSON)
	}
	u.mux.HandleFunc("GET /quarantine", u.quarantineList)
	u.mux.HandleFunc("GET /quarantine/{id}", u.quarantineDetail)
	if opts.Schemas != nil {
		u.mux.HandleFunc("GET /schemas", u.schemaList)
		u.mux.HandleFunc("GET /schemas/{subject}", u.schemaDetail)
		if opts.SchemaChanges != nil {
			u.mux.HandleFunc("POST /schemas/{subject}/check", u.schemaCheck)
			u.mux.HandleFunc("POST /schemas/{subject}/register", u.schemaRegister)
			u.mux.HandleFunc("POST /schemas/{subject}/versions/{version}/state", u.schemaState)
		}
	}
	if opts.Schemas != nil && opts.Shadow != nil {
		u.mux.HandleFunc("GET /schemas/{subject}/shadow", u.shadowPanel)
		u.mux.HandleFunc("POST /schemas/{subject}/versions/{version}/promote", u.shadowPromote)
		u.mux.HandleFunc("POST /schemas/{subject}/versions/{version}/shadow", u.shadowSet)
	}
	if opts.Reprocess != nil {
		u.mux.HandleFunc("GET /reprocess", u.reprocessPage)
		u.mux.HandleFunc("POST /reprocess/dry-run", u.reprocessDryRun)
		u.mux.HandleFunc("POST /reprocess/start", u.reprocessStart)
		u.mux.HandleFunc("GET /reprocess/jobs", u.jobsPage)
		u.mux.HandleFunc("GET /reprocess/jobs/{job}", u.reprocessJob)
		u.mux.HandleFunc("POST /quarantine/{id}/reprocess", u.reprocessRecord)
		u.mux.HandleFunc("POST /quarantine/{id}/discard", u.discardRecord)
		u.mux.HandleFunc("GET /quarantine/{id}/edit", u.editPage)
		u.mux.HandleFunc("POST /quarantine/{id}/edit", u.editSave)
		u.mux.HandleFunc("POST /quarantine/{id}/validate", u.editValidate)
		u.mux.HandleFunc("POST /quarantine/bulk/dry-run", u.bulkDryRun)
		u.mux.HandleFunc("POST /quarantine/bulk/reprocess", u.bulkReprocess)
		u.mux.HandleFunc("POST /quarantine/bulk/discard-check", u.bulkDiscardCheck)
		u.mux.HandleFunc("POST /quarantine/bulk/discard", u.bulkDiscard)
	}
	u.mux.HandleFunc("/", u.notFound)
	return u, nil
}

func (u *ui) parse() error {
	funcs := template.FuncMap{
		"time":        fmtTime,
		"ago":         ago,
		"pct":         pct,
		"num":         num,
		"rate":        fmtRate,
		"ms":          fmtMillis,
		"barClass":    barClass,
		"relative":    relative,
		"windowLabel": windowLabel,
		"add":         func(a, b int) int { return a + b },
		"int64":       func(n int) int64 { return int64(n) },
		"ratio": func(a, b int64) float64 {
			if b == 0 {
				return 0
			}
			return float64(a) / float64(b)
		},
	}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/fragments.html")
	if err != nil {
		return fmt.Errorf("web: parsing templates: %w", err)
	}
	u.frags = base
	for _, page := range []string{"dashboard", "quarantine", "detail", "schemas", "subject", "error", "reprocess", "job", "edit", "jobs", "shadow"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+page+".html")
		if err != nil {
			return fmt.Errorf("web: parsing template %s: %w", page, err)
		}
		u.pages[page] = t
	}
	return nil
}

func staticHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP sets the security headers every UI response carries, then
// routes.
func (u *ui) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	u.mux.ServeHTTP(w, r)
}

// page is what every page template gets.
type page struct {
	Title   string
	Nav     string // the active nav entry
	Schemas bool   // the registry is there: show its nav entry
	Jobs    bool   // reprocessing is there: show the Jobs entry to every user
	Actions Actions
	// User and Role are who is logged in; "" when auth is off.
	User, Role string
	Data       any
}

func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	p := page{Title: title, Nav: nav, Schemas: u.opts.Schemas != nil, Jobs: u.opts.Reprocess != nil, Actions: u.actions(r.Context()), Data: data}
	if u.opts.Principal != nil {
		p.User, p.Role = u.opts.Principal(r.Context())
	}
	u.renderTemplate(w, r, status, u.pages[name], "layout", p)
}

// renderFragment renders one named template of a page alone, for htmx.
func (u *ui) renderFragment(w http.ResponseWriter, r *http.Request, pageName, name string, data any) {
	u.renderTemplate(w, r, http.StatusOK, u.pages[pageName], name, data)
}

func (u *ui) renderTemplate(w http.ResponseWriter, r *http.Request, status int, t *template.Template, name string, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		u.log.ErrorContext(r.Context(), "rendering page", "template", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	Status  int
	Message string
}

func (u *ui) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	u.render(w, r, status, "error", http.StatusText(status), "", errorPage{Status: status, Message: msg})
}

func (u *ui) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	u.log.ErrorContext(r.Context(), what, "path", r.URL.Path, "err", err)
	u.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on the server; it has been logged.")
}

func (u *ui) notFound(w http.ResponseWriter, r *http.Request) {
	u.errorPage(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
}

// actions are the actions the request's user may use.
func (u *ui) actions(ctx context.Context) Actions {
	if !u.mayChange(ctx) {
		return Actions{}
	}
	return u.opts.Actions
}

func (u *ui) mayChange(ctx context.Context) bool {
	return u.opts.MayChange == nil || u.opts.MayChange(ctx)
}

// forbidden answers a form the user may not send. The auth middleware
// refuses these before they get here; this is the UI's own check.
func (u *ui) forbidden(w http.ResponseWriter, r *http.Request) {
	u.errorPage(w, r, http.StatusForbidden, "This needs the operator role.")
}

// LoginPage returns the UI's login page, for the auth middleware to serve
// at GET /login (query: next, the page to go back to; error=1 after a
// refused token). The form posts to /login, which the middleware handles.
// Before login the middleware serves nothing else, so the page carries its
// stylesheet inline, allowed by its hash in the page's CSP.
func LoginPage() (http.Handler, error) {
	t, err := template.ParseFS(templateFS, "templates/login.html")
	if err != nil {
		return nil, fmt.Errorf("web: parsing the login page: %w", err)
	}
	css, err := staticFS.ReadFile("static/login.css")
	if err != nil {
		return nil, fmt.Errorf("web: reading the login stylesheet: %w", err)
	}
	sum := sha256.Sum256(css)
	csp := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, "login", struct {
			CSS   template.CSS // our own embedded stylesheet, never data
			Error bool
			Next  string // checked by the middleware when the form comes back
		}{template.CSS(css), q.Get("error") != "", q.Get("next")}); err != nil { //nolint:gosec // G203: the embedded stylesheet
			http.Error(w, "internal server error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
	}), nil
}

// isHTMX reports whether r is an htmx request for a fragment (not a
// boosted or history-restoring one).
func isHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}
