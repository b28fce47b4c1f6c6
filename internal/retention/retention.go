// Package retention owns the periodic purge of old quarantined records
// (PRODUCT.md §6): every interval it deletes, from the metadata store, the
// entries older than the configured age, then, from the payload store, the
// segments written before the same cutoff. Rows go first, so a row never
// points at a payload already deleted by this job.
//
// It also keeps PostgreSQL's day partitions created ahead of time (when the
// metadata store offers EnsurePartitions), so a long-running gateway never
// waits for one: that runs every interval even when nothing is purged.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// Options configure a Job.
type Options struct {
	// MaxAge is how old an entry may get before it is purged (see
	// quarantine.MetadataPurger for what its age is). Default 0: nothing is
	// purged.
	MaxAge time.Duration
	// Interval is the time between runs; the first run is at Run's start.
	// Default 1h.
	Interval time.Duration
	// Metadata and Payloads are purged; either may be nil. They must be the
	// stores themselves, not the outage spools in front of them.
	Metadata quarantine.MetadataPurger
	Payloads quarantine.SegmentPurger
	// Partitions, when set, is called every run to create the day
	// partitions ahead (the PostgreSQL store's EnsurePartitions).
	Partitions func(context.Context) error
	// Registerer receives retention_purged_total{store} and
	// retention_errors_total{store}. Default: a private registry.
	Registerer prometheus.Registerer
	// Logger: default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Job purges old quarantined records periodically. Run it once.
type Job struct {
	opts   Options
	log    *slog.Logger
	purged *prometheus.CounterVec
	errs   *prometheus.CounterVec
}

// New returns a Job.
func New(opts Options) (*Job, error) {
	if opts.MaxAge < 0 {
		return nil, fmt.Errorf("retention: MaxAge %s is negative", opts.MaxAge)
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Hour
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	j := &Job{
		opts: opts,
		log:  opts.Logger.With("component", "retention"),
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "retention_purged_total",
			Help: "Quarantined records purged by retention: metadata rows (store=metadata) and payload segments (store=payloads).",
		}, []string{"store"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "retention_errors_total",
			Help: "Retention runs that failed on a store; the next run retries.",
		}, []string{"store"}),
	}
	for _, store := range []string{"metadata", "payloads"} {
		j.purged.WithLabelValues(store)
		j.errs.WithLabelValues(store)
	}
	if err := opts.Registerer.Register(j.purged); err != nil {
		return nil, fmt.Errorf("registering retention metrics: %w", err)
	}
	if err := opts.Registerer.Register(j.errs); err != nil {
		return nil, fmt.Errorf("registering retention metrics: %w", err)
	}
	return j, nil
}

// Run runs the job at once, then every Interval, until ctx ends; it returns
// nil then. A failed run is logged and counted, never fatal: a store that is
// down is retried at the next run.
func (j *Job) Run(ctx context.Context) error {
	t := time.NewTicker(j.opts.Interval)
	defer t.Stop()
	for {
		_, _ = j.RunOnce(ctx) // logged and counted there
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Result is what one run purged.
type Result struct {
	Cutoff   time.Time
	Rows     int64 // metadata rows
	Segments int64 // payload segments
}

// RunOnce maintains the partitions and purges everything older than MaxAge
// (nothing when MaxAge is 0), and logs one line with the counts. The error
// joins each store's failure.
func (j *Job) RunOnce(ctx context.Context) (Result, error) {
	var errs []error
	if j.opts.Partitions != nil {
		if err := j.opts.Partitions(ctx); err != nil && ctx.Err() == nil {
			j.errs.WithLabelValues("metadata").Inc()
			j.log.Warn("creating partitions ahead failed; retrying at the next run", "err", err)
			errs = append(errs, err)
		}
	}
	if j.opts.MaxAge == 0 {
		return Result{}, errors.Join(errs...)
	}
	start := time.Now()
	r, err := j.purge(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	if ctx.Err() != nil {
		return r, errors.Join(errs...)
	}
	attrs := []any{
		"cutoff", r.Cutoff.UTC().Format(time.RFC3339), "max_age", j.opts.MaxAge,
		"metadata_rows", r.Rows, "payload_segments", r.Segments, "took", time.Since(start).Round(time.Millisecond),
	}
	if err != nil {
		j.log.Warn("retention purge incomplete; retrying at the next run", append(attrs, "err", err)...)
	} else {
		j.log.Info("retention purge", attrs...)
	}
	return r, errors.Join(errs...)
}

func (j *Job) purge(ctx context.Context) (Result, error) {
	r := Result{Cutoff: j.opts.Now().Add(-j.opts.MaxAge)}
	if j.opts.Metadata != nil {
		n, err := j.opts.Metadata.PurgeBefore(ctx, r.Cutoff)
		r.Rows = n
		j.purged.WithLabelValues("metadata").Add(float64(n))
		if err != nil {
			// Segments are kept while rows that may point into them are:
			// the payload purge waits for the next run.
			j.errs.WithLabelValues("metadata").Inc()
			return r, fmt.Errorf("purging metadata: %w", err)
		}
	}
	if j.opts.Payloads != nil {
		n, err := j.opts.Payloads.DeleteSegmentsBefore(ctx, r.Cutoff)
		r.Segments = n
		j.purged.WithLabelValues("payloads").Add(float64(n))
		if err != nil {
			j.errs.WithLabelValues("payloads").Inc()
			return r, fmt.Errorf("purging payloads: %w", err)
		}
	}
	return r, nil
}
