package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/retry"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// Options configure a Pipeline.
type Options struct {
	// Client consumes the input topics in a group and produces the output;
	// build it with kafka.NewGroupClient (manual commits, blocked
	// rebalances, source-partition partitioner, batches capped at the
	// output topics' max.message.bytes). Required, unless Transact is set.
	Client *kgo.Client
	// Transact, when set, makes the pipeline exactly-once: each batch's
	// produces and its offset commit go in one Kafka transaction, committed
	// after the batch's quarantine writes are durable, and aborted (the
	// batch is then redelivered) if the group rebalances meanwhile or a
	// produce fails. Build it with kafka.NewTransactSession; Client is then
	// its client. Default nil: at-least-once, offsets committed after the
	// produces are acknowledged.
	Transact *kgo.GroupTransactSession
	// Engine validates each record. Required.
	Engine *validate.Engine
	// Metadata and Payloads store quarantined records. Required.
	Metadata quarantine.MetadataStore
	Payloads quarantine.PayloadStore
	// CleanTopic receives valid records, DLQTopic invalid ones. Required.
	CleanTopic string
	DLQTopic   string
	// DLQCompat adds Kafka Connect's or Confluent's dead-letter headers to
	// DLQ records (dlqheaders.go). Default: the dq.* headers only.
	DLQCompat DLQCompat
	// Metrics receive the counters. Default: metrics on a private registry.
	Metrics *Metrics
	// BatchSize caps the records polled per batch. Default 5000.
	BatchSize int
	// RetryBackoffMin and RetryBackoffMax bound the jittered exponential
	// back-off between retries of a failed write. Defaults 100ms and 10s.
	RetryBackoffMin time.Duration
	RetryBackoffMax time.Duration
	// MaxBatchHold bounds how long one batch may hold the group's
	// rebalance block (franz-go's BlockRebalanceOnPoll) while its writes are
	// retried. Past it the batch is released: left uncommitted, its
	// partitions rewound to its first offsets, the rebalance let through,
	// and the batch polled and tried again (another member may own it by
	// then). Default 30s, half of franz-go's 60s rebalance timeout.
	MaxBatchHold time.Duration
	// ShutdownGrace is how long the in-flight batch may take to finish its
	// writes and commit after Run's context ends. Default 30s.
	ShutdownGrace time.Duration
	// Logger: default slog.Default().
	Logger *slog.Logger
	// Now is the clock for quarantined-at times. Default time.Now.
	Now func() time.Time
	// Circuit, when set, is told each committed batch's valid and invalid
	// counts per input topic (the circuit breaker trips on them).
	Circuit CircuitRecorder
	// Shadow, when set, picks the records evaluated against their
	// subject's versions in shadow as well (validate.Engine.ValidateShadow)
	// and is told the shadow verdicts of each committed batch. Default nil:
	// no shadow evaluation.
	Shadow ShadowRecorder
	// Observe lists the input topics in observe mode: their invalid
	// records go to the clean topic too, marked with dq.observed.*
	// headers, counted as invalid (observe.go). Default none: every input
	// enforces.
	Observe map[string]bool
	// ObservedRows lists the observe-mode topics whose invalid records
	// are also stored (payload and metadata row, status observed), for
	// browsing. Default none.
	ObservedRows map[string]bool
	// OnCommit, when set, is called after each batch's writes are durable
	// and its offsets committed, with the batch's input records (the
	// benchmark measures end-to-end latency with it). It runs on the
	// pipeline's goroutine and must not retain recs.
	OnCommit func(recs []*kgo.Record)
}

// CircuitRecorder receives the verdict counts the circuit breaker judges.
// Only committed verdicts reach it: an outage never trips the breaker.
type CircuitRecorder interface {
	Record(topic string, valid, invalid int64)
}

// Pipeline moves records from the input topics to the clean topic or to
// quarantine. Run it once.
//
// Each poll becomes a batch, carried by value along one walk:
// validate (every record, on every CPU) -> route (clean or DLQ record, and
// for a quarantined one its payload and metadata row) -> deliver (produce,
// and write the quarantine stores, both until durable) -> commit.
type Pipeline struct {
	opts    Options
	cl      *kgo.Client
	txn     *kgo.GroupTransactSession // nil: at-least-once
	log     *slog.Logger
	m       *Metrics
	backoff retry.Backoff

	// aborts counts consecutive aborted transactions, for the back-off.
	aborts int
	// detours are the routes the broker forced on records (see
	// detour.go), consulted when a record is routed.
	detours detours
	// observers are the validation-time histograms per input topic.
	observers map[string]prometheus.Observer
	// spare is the storage of the last batch, reused by the next one (Run
	// walks one batch at a time).
	spare *batch
	// observed is countShadow's storage, reused from batch to batch.
	observed []shadow.Observed
}

// New returns a Pipeline.
func New(opts Options) (*Pipeline, error) {
	if opts.Transact != nil {
		opts.Client = opts.Transact.Client()
	}
	switch {
	case opts.Client == nil:
		return nil, errors.New("pipeline: Options.Client is required")
	case opts.Engine == nil:
		return nil, errors.New("pipeline: Options.Engine is required")
	case opts.Metadata == nil || opts.Payloads == nil:
		return nil, errors.New("pipeline: Options.Metadata and Options.Payloads are required")
	case opts.CleanTopic == "" || opts.DLQTopic == "":
		return nil, errors.New("pipeline: Options.CleanTopic and Options.DLQTopic are required")
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.MaxBatchHold <= 0 {
		opts.MaxBatchHold = 30 * time.Second
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Pipeline{
		opts:      opts,
		cl:        opts.Client,
		txn:       opts.Transact,
		log:       opts.Logger.With("component", "pipeline"),
		m:         opts.Metrics,
		backoff:   retry.Backoff{Min: opts.RetryBackoffMin, Max: opts.RetryBackoffMax},
		detours:   newDetours(),
		observers: make(map[string]prometheus.Observer),
	}, nil
}

// Run processes batches until ctx ends. The batch in flight when ctx ends
// gets ShutdownGrace to finish its writes and commit, so a clean stop leaves
// nothing to redeliver. Run returns nil after a clean stop, or the error
// that stopped it.
func (p *Pipeline) Run(ctx context.Context) error {
	return p.follow(ctx, p.opts.ShutdownGrace, func(work, hold context.Context, recs []*kgo.Record) error {
		p.m.progress.polled(time.Now())
		return p.process(work, hold, recs)
	})
}

// follow is the poll loop of Run and of the Ingester: it polls a batch of
// the group's records and hands it to handle, with the rebalance block held
// until handle returns. handle gets two contexts: work, which outlives ctx
// by grace (the batch in flight when ctx ends may finish), and hold, which
// also ends MaxBatchHold after the poll. A batch handle gives up on while
// work is alive (its hold ran out) is released (see release) and polled
// again. follow returns nil when ctx ends or the client closes (anything
// polled but not handled is simply not committed: the group redelivers
// it), or the error of handle when work ended first.
func (p *Pipeline) follow(ctx context.Context, grace time.Duration, handle func(work, hold context.Context, recs []*kgo.Record) error) error {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancelWork) })
	defer stop()

	for {
		fetches := p.cl.PollRecords(ctx, p.opts.BatchSize)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			p.cl.AllowRebalance()
			return nil
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			p.log.Warn("fetch error; the client retries", "topic", topic, "partition", partition, "err", err)
		})
		if recs := fetches.Records(); len(recs) > 0 {
			hold, cancel := context.WithTimeout(work, p.opts.MaxBatchHold)
			err := handle(work, hold, recs)
			cancel()
			switch {
			case err != nil && work.Err() == nil:
				p.release(recs)
			case err != nil:
				p.cl.AllowRebalance()
				return err
			}
		}
		p.cl.AllowRebalance()
	}
}

// process walks one batch: validate, route, deliver, commit. The writes
// run under hold, the commit under ctx; an error means the batch was left
// uncommitted (hold or ctx ended first).
func (p *Pipeline) process(ctx, hold context.Context, recs []*kgo.Record) error {
	b := p.newBatch(recs)
	if err := p.validateAll(hold, b); err != nil {
		return err
	}
	for i := range b.recs {
		p.route(b, i)
	}
	if p.txn != nil {
		return p.deliverTransaction(ctx, hold, b)
	}
	if err := p.deliver(hold, b); err != nil {
		return err
	}
	p.commit(ctx, b.recs)
	p.done(b)
	return nil
}

// release gives up a batch that held the rebalance block for MaxBatchHold:
// its partitions are rewound to the batch's first offsets (nothing of it is
// committed, so nothing is skipped), the caller lets the rebalance through,
// and the next poll delivers the batch again, to this member or to the
// partition's new owner. Writes already made are idempotent.
func (p *Pipeline) release(recs []*kgo.Record) {
	first := make(map[string]map[int32]kgo.EpochOffset)
	for _, r := range recs {
		parts := first[r.Topic]
		if parts == nil {
			parts = make(map[int32]kgo.EpochOffset)
			first[r.Topic] = parts
		}
		if eo, ok := parts[r.Partition]; !ok || r.Offset < eo.Offset {
			parts[r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset}
		}
	}
	if p.txn == nil {
		// A transaction's abort already rewound the session's client.
		p.cl.SetOffsets(first)
	}
	p.m.released.Inc()
	p.log.Error("a batch could not be made durable in time and was released to be retried; see the errors before this one",
		"records", len(recs), "held_for", p.opts.MaxBatchHold)
}

// commit commits the batch's offsets. A failure is logged, not retried
// forever: it means the group moved the partitions (their new owner
// redelivers from the last commit, harmlessly: every write is idempotent) or
// the broker is gone (the next batch's commit covers these offsets).
func (p *Pipeline) commit(ctx context.Context, recs []*kgo.Record) {
	var err error
	start := time.Now()
	defer func() { p.m.writes.WithLabelValues("kafka_commit").Observe(time.Since(start).Seconds()) }()
	for attempt := range 3 {
		if err = p.cl.CommitRecords(ctx, recs...); err == nil || ctx.Err() != nil {
			break
		}
		retry.Sleep(ctx, p.backoff.Delay(attempt))
	}
	if err != nil {
		p.m.storeErrors.WithLabelValues("kafka_commit").Inc()
		p.log.Error("committing offsets failed; the batch will be redelivered", "records", len(recs), "err", err)
	}
}

// done finishes a committed batch: its counts reach the metrics and the
// circuit breaker, its detours are forgotten, and OnCommit is told.
func (p *Pipeline) done(b *batch) {
	now := time.Now()
	p.m.progress.committed(now)
	p.detours.forget(b, now)
	p.count(b)
	if p.opts.OnCommit != nil {
		p.opts.OnCommit(b.recs)
	}
	p.m.batches.Inc()
	p.log.Debug("batch done", "records", len(b.recs), "quarantined", len(b.entries), "took", time.Since(b.started))
	p.spare = b
}

// retry calls fn until it succeeds or ctx ends, waiting a jittered,
// growing back-off between attempts. A transient failure (an outage) is a
// warning; a permanent one (retrying cannot fix it: a refused write, an
// authorization error) is an error, logged once per streak and counted in
// pipeline_permanent_errors_total, since only an operator can end it. Either
// way the batch is not committed, so nothing is lost; MaxBatchHold bounds
// how long the batch waits.
func (p *Pipeline) retry(ctx context.Context, stage string, errs *prometheus.CounterVec, fn func() error) error {
	loud := false
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			if attempt > 0 {
				p.log.Info("recovered", "stage", stage, "attempts", attempt+1)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: giving up: %w", stage, err)
		}
		errs.WithLabelValues(stage).Inc()
		wait := p.backoff.Delay(attempt)
		switch {
		case retry.Transient(err):
			p.log.Warn("failed; retrying", "stage", stage, "attempt", attempt+1, "in", wait, "err", err)
		case !loud:
			loud = true
			p.m.permanent.WithLabelValues(stage).Inc()
			p.log.Error("failed, and retrying will not help until the cause is fixed; the batch waits, uncommitted",
				"stage", stage, "attempt", attempt+1, "err", err)
		}
		retry.Sleep(ctx, wait)
	}
}
