package reprocess

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// HeaderReplayCount is the header every republished record carries: how
// many times it has been republished, this time included.
const HeaderReplayCount = "dq.replay.count"

// Target is where a job publishes the records that pass.
type Target string

// Targets.
const (
	// TargetClean is the clean topic (Options.CleanTopic).
	TargetClean Target = "clean"
	// TargetRaw is each record's own source topic, to flow through the
	// pipeline again.
	TargetRaw Target = "raw"
	// TargetSource is each record's original topic, the record as it was
	// first produced: for a record imported from another tool's
	// dead-letter topic (package dlqimport), the topic its dead-letter
	// headers name. The headers a dead-letter writer added (dq.*,
	// __connect.errors.*, __rule.*) are dropped. A topic the gateway binds
	// a schema to is validated as for any target; one it does not (a
	// Kafka Connect sink's topic) has nothing to validate against, so its
	// records are published as they are, for that topic's consumer to
	// judge again. A record whose original topic is unknown is not
	// published (failed_again, saying so).
	TargetSource Target = "source"
)

// Targets lists every target.
var Targets = []Target{TargetClean, TargetRaw, TargetSource}

// Store is the metadata a Service works on; the sqlite and postgres
// metadata stores are one.
type Store interface {
	Get(ctx context.Context, id string) (quarantine.Entry, error)
	List(ctx context.Context, f quarantine.Filter) (quarantine.Page, error)
	Count(ctx context.Context, f quarantine.Filter) (int64, error)
	quarantine.Lifecycle
	quarantine.JobStore
}

// PayloadReader reads the original payloads; quarantine.PayloadStore is one.
type PayloadReader interface {
	Read(ctx context.Context, ref quarantine.PayloadRef) (quarantine.Payload, error)
}

// Validator is the current validation; *validate.Engine is one.
type Validator interface {
	Validate(rec *record.Record, v *record.Verdict) error
}

// Publisher produces records; a *kgo.Client is one. It must be an
// idempotent producer with acks=all, as the pipeline's is.
type Publisher interface {
	ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults
}

// Options configure a Service.
type Options struct {
	// Store holds the records, their lifecycle and the jobs. Required.
	Store Store
	// Payloads holds the original payloads. Required.
	Payloads PayloadReader
	// Validator re-validates records. Required.
	Validator Validator
	// Publisher publishes the records that pass. Required.
	Publisher Publisher
	// CleanTopic is TargetClean's topic. Required.
	CleanTopic string
	// Audit receives a "reprocess.start" event per job (the per-record
	// changes are audited by Store). Default: none.
	Audit audit.Log
	// MaxReplays is the loop guard: a record republished this many times
	// already is not published again. Default 3.
	MaxReplays int
	// BatchSize is how many records a job claims, publishes and finishes
	// at a time: also the most a crash can republish. Default 100.
	BatchSize int
	// SampleSize caps a dry run's sample of failures. Default 10.
	SampleSize int
	// MaxAttempts is how many times a job tries a batch that fails for an
	// operational reason before the job fails. Default 5.
	MaxAttempts int
	// RetryBackoff is the first wait between attempts, doubled each time.
	// Default 500ms.
	RetryBackoff time.Duration
	// MaxPayloadBytes caps a corrected payload. Default 1 MiB.
	MaxPayloadBytes int
	// Lease is how long a job stays this process's after each renewal (one
	// per batch): if the process dies, another one resumes the job once
	// the lease has run out. It must exceed a batch's time, retries
	// included. Default 1m.
	Lease time.Duration
	// ScanInterval is how often Run looks for running jobs nobody holds
	// (their process died) to resume them. Default 30s.
	ScanInterval time.Duration
	// Registerer receives the metrics. Default: none (not registered).
	Registerer prometheus.Registerer
	// Logger receives job events and errors. Default: slog.Default().
	Logger *slog.Logger
}

// Service runs reprocess jobs. It is safe for concurrent use.
type Service struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	// owner names this Service in job leases.
	owner string

	mu      sync.Mutex
	ctx     context.Context // Run's, nil while Run is not running
	stopped bool
	active  map[string]struct{} // jobs running in this process
	wg      sync.WaitGroup
}

// New returns a Service; jobs run once Run is called.
func New(opts Options) (*Service, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("reprocess: Options.Store is required")
	case opts.Payloads == nil:
		return nil, errors.New("reprocess: Options.Payloads is required")
	case opts.Validator == nil:
		return nil, errors.New("reprocess: Options.Validator is required")
	case opts.Publisher == nil:
		return nil, errors.New("reprocess: Options.Publisher is required")
	case opts.CleanTopic == "":
		return nil, errors.New("reprocess: Options.CleanTopic is required")
	}
	if opts.MaxReplays <= 0 {
		opts.MaxReplays = 3
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.SampleSize <= 0 {
		opts.SampleSize = 10
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 500 * time.Millisecond
	}
	if opts.MaxPayloadBytes <= 0 {
		opts.MaxPayloadBytes = 1 << 20
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.ScanInterval <= 0 {
		opts.ScanInterval = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Service{
		opts: opts, log: opts.Logger.With("component", "reprocess"), metrics: m,
		owner: newJobID(), active: make(map[string]struct{}),
	}, nil
}

// Run resumes the jobs left running that no process holds (their process
// stopped or died, or they were started while Run was not running), now
// and every ScanInterval; runs the jobs Start starts; and returns when ctx
// ends, after every job has stopped. Stopped jobs stay running in the
// store, their lease given up, for the next Run (here or in another
// process) to resume.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ctx != nil || s.stopped {
		s.mu.Unlock()
		return errors.New("reprocess: Run called twice")
	}
	s.ctx = ctx
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		s.wg.Wait()
	}()

	tick := time.NewTicker(s.opts.ScanInterval)
	defer tick.Stop()
	for {
		s.resume(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// resume launches the running jobs whose lease has run out.
func (s *Service) resume(ctx context.Context) {
	jobs, err := s.opts.Store.UnfinishedJobs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "listing reprocess jobs to resume", "err", err)
		}
		return
	}
	now := time.Now()
	for _, j := range jobs {
		if j.Owner == "" || j.Owner == s.owner || now.After(j.LeaseUntil) {
			s.launch(j)
		}
	}
}

// launch runs j in the background under Run's context, unless it already
// runs here or Run is not running (Run will resume it).
func (s *Service) launch(j quarantine.Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.stopped {
		return
	}
	if _, ok := s.active[j.ID]; ok {
		return
	}
	s.active[j.ID] = struct{}{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.active, j.ID)
			s.mu.Unlock()
		}()
		s.runJob(s.ctx, j)
	}()
}

// Request is a reprocess run to start.
type Request struct {
	Filter Filter
	// Target is where passing records go; "" is TargetClean.
	Target Target
	Reason string
	Actor  string
	Role   string
}

// Start validates req, persists it as a running job and returns the job's
// id at once; the job runs in the background (see Run). An invalid request
// is ErrInvalidRequest; a stopped Service is ErrClosed.
func (s *Service) Start(ctx context.Context, req Request) (string, error) {
	if err := req.Filter.Validate(); err != nil {
		return "", err
	}
	switch req.Target {
	case "":
		req.Target = TargetClean
	case TargetClean, TargetRaw, TargetSource:
	default:
		return "", fmt.Errorf("target %q: must be clean, raw or source: %w", req.Target, ErrInvalidRequest)
	}
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return "", ErrClosed
	}
	if len(req.Filter.IDs) == 0 && req.Filter.Until.IsZero() {
		// The job takes the records quarantined before it started, so its
		// count holds and it ends: later ones are another job's. Stored
		// with the job, the bound survives a resume.
		req.Filter.Until = time.Now().UTC()
	}
	filter, err := json.Marshal(req.Filter)
	if err != nil {
		return "", fmt.Errorf("encoding filter: %w", err)
	}
	j := quarantine.Job{
		ID: newJobID(), State: quarantine.JobRunning, Filter: filter, Target: string(req.Target),
		Reason: req.Reason, Actor: req.Actor, Role: req.Role,
		Owner: s.owner, LeaseUntil: time.Now().Add(s.opts.Lease),
	}
	if err := s.opts.Store.CreateJob(ctx, j); err != nil {
		return "", err
	}
	s.metrics.jobs.WithLabelValues("started").Inc()
	if s.opts.Audit != nil {
		details, _ := json.Marshal(map[string]any{"filter": json.RawMessage(filter), "target": req.Target})
		if err := s.opts.Audit.Append(ctx, audit.Event{
			Actor: req.Actor, Role: req.Role, Action: "reprocess.start", Target: "job/" + j.ID,
			Reason: req.Reason, Details: details,
		}); err != nil {
			// The job is stored and will run: say so in the log rather
			// than fail a request that took effect.
			s.log.ErrorContext(ctx, "auditing reprocess start", "job", j.ID, "err", err)
		}
	}
	s.launch(j)
	return j.ID, nil
}

// Job returns the job's state and counts, or quarantine.ErrNotFound.
func (s *Service) Job(ctx context.Context, id string) (quarantine.Job, error) {
	return s.opts.Store.GetJob(ctx, id)
}

// Jobs lists the jobs f selects, newest first: see
// quarantine.JobStore.ListJobs.
func (s *Service) Jobs(ctx context.Context, f quarantine.JobFilter) (quarantine.JobPage, error) {
	return s.opts.Store.ListJobs(ctx, f)
}

// Discard marks a quarantined or failed_again record discarded: see
// quarantine.Lifecycle.Discard for its errors.
func (s *Service) Discard(ctx context.Context, id string, c quarantine.Change) error {
	return s.opts.Store.Discard(ctx, id, c)
}

// Correct stores a corrected payload for the record, used instead of the
// original by later reprocessing; the original stays for the audit trail.
// A value over Options.MaxPayloadBytes is ErrInvalidRequest.
func (s *Service) Correct(ctx context.Context, id string, value []byte, c quarantine.Change) error {
	if len(value) > s.opts.MaxPayloadBytes {
		return fmt.Errorf("corrected payload is %d bytes, the limit is %d: %w", len(value), s.opts.MaxPayloadBytes, ErrInvalidRequest)
	}
	return s.opts.Store.Correct(ctx, id, value, c)
}

// Correction returns the record's corrected payload, or
// quarantine.ErrNotFound when it has none.
func (s *Service) Correction(ctx context.Context, id string) ([]byte, error) {
	return s.opts.Store.Correction(ctx, id)
}

// Check is what validating a payload for a record says now.
type Check struct {
	// Subject and Version name the schema version that decided: the
	// subject's current enforced version, or the older one a rollout
	// fallback accepted the payload under.
	Subject string
	Version int
	// Violations are every error; none when the payload passes.
	Violations []record.Violation
}

// Check validates value as record id's payload, against the current
// schema and rules of the record's topic, exactly as reprocessing it would
// (the record's key, timestamp and original headers included), and changes
// nothing. An unknown record is quarantine.ErrNotFound; a value over
// MaxPayloadBytes is ErrInvalidRequest.
func (s *Service) Check(ctx context.Context, id string, value []byte) (Check, error) {
	if len(value) > s.opts.MaxPayloadBytes {
		return Check{}, fmt.Errorf("the payload is %d bytes, the limit is %d: %w", len(value), s.opts.MaxPayloadBytes, ErrInvalidRequest)
	}
	e, err := s.opts.Store.Get(ctx, id)
	if err != nil {
		return Check{}, err
	}
	p, err := s.opts.Payloads.Read(ctx, e.Payload)
	switch {
	case errors.Is(err, quarantine.ErrNotFound), errors.Is(err, quarantine.ErrCorrupt):
		// Without the original, validate without its headers.
	case err != nil:
		return Check{}, fmt.Errorf("reading payload of %s: %w", id, err)
	}
	v, err := s.validate(&e, value, p.Headers)
	if err != nil {
		return Check{}, err
	}
	return Check{Subject: v.Subject, Version: v.Version, Violations: append([]record.Violation{}, v.Violations...)}, nil
}

// MaxPayloadBytes is the largest corrected payload Correct accepts.
func (s *Service) MaxPayloadBytes() int { return s.opts.MaxPayloadBytes }

func newJobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
