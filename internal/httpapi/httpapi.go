// Package httpapi owns DataQuarantine's HTTP surface: health and readiness,
// the REST API under /api/v1, and delegation of /metrics. It knows nothing
// of storage: it reads through the small interfaces below, which the
// quarantine stores satisfy.
//
// Every response is JSON; every error is {"error": {"code", "message"}} with
// a snake_case code, and internal causes are logged, never sent.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

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
}

var (
	_ QuarantineReader = quarantine.MetadataStore(nil)
	_ PayloadReader    = quarantine.PayloadStore(nil)
)

// Stats are the pipeline's counters since it started.
type Stats struct {
	Since                     time.Time
	Processed, Valid, Invalid int64
	InvalidByErrorType        map[record.ErrorType]int64
}

// StatsSource provides the current Stats.
type StatsSource interface {
	Stats() Stats
}

// Options configure the handler.
type Options struct {
	// Quarantine reads quarantine metadata. Required.
	Quarantine QuarantineReader
	// Payloads reads quarantined payloads. Required.
	Payloads PayloadReader
	// Stats provides the pipeline's counters. Required.
	Stats StatsSource
	// Metrics is served at /metrics. Default: none (404).
	Metrics http.Handler
	// Health reports the gateway's health for /healthz (always 200, with
	// the detail) and /readyz (503 unless ready). Default: always ready,
	// no detail.
	Health func() Health
	// Logger receives internal errors. Default: slog.Default().
	Logger *slog.Logger
	// Circuit shows and resumes the circuit breakers. Default: none (the
	// circuit endpoints answer 404: the breaker is disabled).
	Circuit CircuitControl
	// Reprocess reprocesses, discards and corrects records. Default: none
	// (the reprocessing endpoints answer 404).
	Reprocess reprocess.Reprocessor
	// Audit is the audit trail, served at /api/v1/audit and as each
	// record's history. Default: none (404, and no history).
	Audit AuditReader
	// Shadow reports the schema versions in shadow and promotes them.
	// Default: none (the shadow endpoints answer 404).
	Shadow shadow.Control
}

type api struct {
	quarantine QuarantineReader
	payloads   PayloadReader
	stats      StatsSource
	health     func() Health
	log        *slog.Logger
	mux        *routeMux
	circuit    CircuitControl
	reprocess  reprocess.Reprocessor
	audit      AuditReader
	shadow     shadow.Control
}

// New returns the HTTP handler for every endpoint.
func New(opts Options) (http.Handler, error) {
	switch {
	case opts.Quarantine == nil:
		return nil, errors.New("httpapi: Options.Quarantine is required")
	case opts.Payloads == nil:
		return nil, errors.New("httpapi: Options.Payloads is required")
	case opts.Stats == nil:
		return nil, errors.New("httpapi: Options.Stats is required")
	}
	a := &api{
		quarantine: opts.Quarantine,
		payloads:   opts.Payloads,
		stats:      opts.Stats,
		health:     opts.Health,
		log:        opts.Logger,
		mux:        newRouteMux(),
		circuit:    opts.Circuit,
		reprocess:  opts.Reprocess,
		audit:      opts.Audit,
		shadow:     opts.Shadow,
	}
	if a.health == nil {
		a.health = func() Health { return Health{Ready: true} }
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.HandleFunc("GET /readyz", a.readyz)
	if opts.Metrics != nil {
		a.mux.Handle("GET /metrics", opts.Metrics)
	}
	a.mux.HandleFunc("GET /api/v1/openapi.json", a.getOpenAPI)
	a.mux.HandleFunc("GET /api/v1/quarantine", a.listQuarantine)
	a.mux.HandleFunc("GET /api/v1/quarantine/{id}", a.getQuarantine)
	a.mux.HandleFunc("GET /api/v1/quarantine/export", a.exportQuarantine)
	a.mux.HandleFunc("GET /api/v1/stats", a.getStats)
	a.mux.HandleFunc("GET /api/v1/circuit", a.listCircuit)
	a.mux.HandleFunc("POST /api/v1/circuit/{topic}/resume", a.resumeCircuit)
	a.mux.HandleFunc("POST /api/v1/reprocess", a.startReprocess)
	a.mux.HandleFunc("GET /api/v1/reprocess", a.listJobs)
	a.mux.HandleFunc("GET /api/v1/reprocess/{job}", a.getJob)
	a.mux.HandleFunc("POST /api/v1/quarantine/{id}/reprocess", a.reprocessOne)
	a.mux.HandleFunc("POST /api/v1/quarantine/{id}/discard", a.discard)
	a.mux.HandleFunc("POST /api/v1/quarantine/discard", a.discardMatching)
	a.mux.HandleFunc("PUT /api/v1/quarantine/{id}/payload", a.putPayload)
	a.mux.HandleFunc("POST /api/v1/quarantine/{id}/validate", a.validatePayload)
	a.mux.HandleFunc("GET /api/v1/audit", a.listAudit)
	a.mux.HandleFunc("GET /api/v1/schemas/{subject}/shadow", a.getShadow)
	a.mux.HandleFunc("POST /api/v1/schemas/{subject}/versions/{version}/promote", a.promote)
	return a, nil
}

// ServeHTTP routes r, answering unrouted requests with JSON errors instead
// of ServeMux's plain-text ones, and turning a handler panic into a 500.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // a sentinel value, never wrapped
				panic(v)
			}
			a.log.ErrorContext(r.Context(), "panic serving HTTP request",
				"method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			WriteError(w, http.StatusInternalServerError, codeInternal, "internal server error")
		}
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if h, pattern := a.mux.Handler(r); pattern == "" {
		a.unrouted(w, r, h)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// unrouted answers a request no pattern matches. ServeMux's handler for it
// says whether that is a wrong method (405, with Allow), no such path
// (404), or a redirect to a cleaned path, which is passed through.
func (a *api) unrouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		WriteError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed,
			"method "+r.Method+" is not allowed on "+r.URL.Path)
	case http.StatusNotFound:
		WriteError(w, http.StatusNotFound, codeNotFound, "no such endpoint: "+r.URL.Path)
	default:
		h.ServeHTTP(w, r)
	}
}

// statusRecorder captures the status and headers a handler writes.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}

// Health is the gateway's health as /healthz and /readyz tell it.
type Health struct {
	// Ready is false until the gateway consumes, and while it is stalled.
	Ready bool `json:"-"`
	// Reason says why the gateway is not ready ("starting", "stalled",
	// "fenced").
	Reason string `json:"reason,omitempty"`
	// Pipeline is the pipeline's progress, when there is one.
	Pipeline *PipelineHealth `json:"pipeline,omitempty"`
}

// PipelineHealth is the pipeline's progress in a health answer.
type PipelineHealth struct {
	LastCommit             time.Time `json:"last_commit"`
	SecondsSinceLastCommit float64   `json:"seconds_since_last_commit"`
	// UncommittedSeconds is how long the oldest records polled and not
	// yet committed have waited; 0 when none wait.
	UncommittedSeconds float64 `json:"uncommitted_seconds"`
	// Lag is the consumer lag summed over the input topics, as last read.
	Lag     int64 `json:"lag"`
	Stalled bool  `json:"stalled"`
}

type healthBody struct {
	Status string `json:"status"`
	Health
}

func (a *api) healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, healthBody{"ok", a.health()})
}

func (a *api) readyz(w http.ResponseWriter, _ *http.Request) {
	h := a.health()
	if !h.Ready {
		WriteJSON(w, http.StatusServiceUnavailable, healthBody{"not ready", h})
		return
	}
	WriteJSON(w, http.StatusOK, healthBody{"ready", h})
}

func (a *api) getStats(w http.ResponseWriter, _ *http.Request) {
	s := a.stats.Stats()
	// Every known error type is present, zero or not, so clients see a
	// stable shape; unknown ones a source reports are kept too.
	byType := make(map[record.ErrorType]int64, len(record.ErrorTypes)+len(s.InvalidByErrorType))
	for _, t := range record.ErrorTypes {
		byType[t] = 0
	}
	for t, n := range s.InvalidByErrorType {
		byType[t] = n
	}
	WriteJSON(w, http.StatusOK, struct {
		Since              *string                    `json:"since"`
		Processed          int64                      `json:"processed"`
		Valid              int64                      `json:"valid"`
		Invalid            int64                      `json:"invalid"`
		InvalidByErrorType map[record.ErrorType]int64 `json:"invalid_by_error_type"`
	}{
		Since:              formatTime(s.Since),
		Processed:          s.Processed,
		Valid:              s.Valid,
		Invalid:            s.Invalid,
		InvalidByErrorType: byType,
	})
}

// internalError logs err once and answers 500 without its details.
func (a *api) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.log.ErrorContext(r.Context(), what, "method", r.Method, "path", r.URL.Path, "err", err)
	WriteError(w, http.StatusInternalServerError, codeInternal, "internal server error")
}
