package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/wire"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// Options configure a Pipeline.
type Options struct {
	// Client consumes the input topics in a group and produces the output;
	// build it with kafka.NewGroupClient (manual commits, blocked
	// rebalances, source-partition partitioner). Required, unless Transact
	// is set.
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
	// RetryBackoffMin and RetryBackoffMax bound the exponential back-off
	// between retries of a failed write. Defaults 100ms and 10s.
	RetryBackoffMin time.Duration
	RetryBackoffMax time.Duration
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
type Pipeline struct {
	opts Options
	cl   *kgo.Client
	txn  *kgo.GroupTransactSession // nil: at-least-once
	log  *slog.Logger
	m    *Metrics

	// aborts counts consecutive aborted transactions, for the back-off.
	aborts int
	// omitValue holds the quarantine ids of DLQ records the broker refused
	// as too large, so that the batch, redelivered after the abort, sends
	// them without their value (exactly-once mode only: at-least-once
	// re-produces the altered record in place).
	omitValue map[string]struct{}

	// Reused across batches: Run processes one batch at a time.
	verdicts   []record.Verdict
	out        []kgo.Record
	outPtrs    []*kgo.Record
	entries    []quarantine.Entry
	payloads   []quarantine.Payload
	observers  map[string]prometheus.Observer
	counts     map[countKey]int64
	ruleCounts map[[2]string]int64 // {subject, rule} -> violations in the batch
	// fallbackCounts counts the batch's records accepted by a rollout
	// fallback version.
	fallbackCounts map[fallbackKey]int64
}

type countKey struct {
	topic, subject string
	errorType      record.ErrorType // "" for valid
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
	if opts.RetryBackoffMin <= 0 {
		opts.RetryBackoffMin = 100 * time.Millisecond
	}
	if opts.RetryBackoffMax < opts.RetryBackoffMin {
		opts.RetryBackoffMax = max(10*time.Second, opts.RetryBackoffMin)
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
		opts:           opts,
		cl:             opts.Client,
		txn:            opts.Transact,
		omitValue:      make(map[string]struct{}),
		log:            opts.Logger.With("component", "pipeline"),
		m:              opts.Metrics,
		observers:      make(map[string]prometheus.Observer),
		counts:         make(map[countKey]int64),
		ruleCounts:     make(map[[2]string]int64),
		fallbackCounts: make(map[fallbackKey]int64),
	}, nil
}

// Run processes batches until ctx ends. The batch in flight when ctx ends
// gets ShutdownGrace to finish its writes and commit, so a clean stop leaves
// nothing to redeliver. Run returns nil after a clean stop, or the error
// that stopped it.
func (p *Pipeline) Run(ctx context.Context) error {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(p.opts.ShutdownGrace, cancelWork) })
	defer stop()

	for {
		fetches := p.cl.PollRecords(ctx, p.opts.BatchSize)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			// Anything polled but not processed is simply not committed:
			// the group redelivers it.
			p.cl.AllowRebalance()
			return nil
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			p.log.Warn("fetch error; the client retries", "topic", topic, "partition", partition, "err", err)
		})
		if recs := fetches.Records(); len(recs) > 0 {
			if err := p.processBatch(work, recs); err != nil {
				p.cl.AllowRebalance()
				return err
			}
		}
		p.cl.AllowRebalance()
	}
}

// processBatch validates, routes, writes and commits one batch. It returns
// an error only when ctx ends before every write is durable; the batch is
// then left uncommitted, to be redelivered.
func (p *Pipeline) processBatch(ctx context.Context, recs []*kgo.Record) error {
	start := time.Now()
	p.prepare(len(recs))
	now := p.opts.Now().UTC()
	if err := p.validateAll(ctx, recs); err != nil {
		return err
	}
	for i, kr := range recs {
		p.route(kr, &p.verdicts[i], &p.out[i], now)
		p.outPtrs[i] = &p.out[i]
	}
	if p.txn != nil {
		return p.processTransaction(ctx, recs, start)
	}

	var wg sync.WaitGroup
	var storeErr error
	if len(p.entries) > 0 {
		wg.Go(func() { storeErr = p.writeQuarantine(ctx) })
	}
	produceErr := p.produce(ctx)
	wg.Wait()
	if err := errors.Join(produceErr, storeErr); err != nil {
		return err
	}
	p.commit(ctx, recs)
	if p.opts.OnCommit != nil {
		p.opts.OnCommit(recs)
	}
	p.flushCounts()
	p.m.batches.Inc()
	p.log.Debug("batch done", "records", len(recs), "quarantined", len(p.entries), "took", time.Since(start))
	return nil
}

// processTransaction writes the routed batch exactly once: the quarantine
// writes (idempotent, outside Kafka) become durable while the records are
// produced inside a transaction, and the transaction then commits the
// produces and the input offsets together. An aborted transaction rewinds
// the consumer to the last committed offsets, so the batch is polled and
// processed again, and nothing of it is visible to read_committed consumers.
func (p *Pipeline) processTransaction(ctx context.Context, recs []*kgo.Record, start time.Time) error {
	if err := p.txn.Begin(); err != nil {
		p.discardCounts()
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	var wg sync.WaitGroup
	var storeErr error
	if len(p.entries) > 0 {
		wg.Go(func() { storeErr = p.writeQuarantine(ctx) })
	}
	produceStart := time.Now()
	produceErr := p.produceOnce(ctx)
	p.m.writes.WithLabelValues("kafka_produce").Observe(time.Since(produceStart).Seconds())
	wg.Wait()
	if storeErr != nil { // only when ctx ended: writes are retried until durable
		p.discardCounts()
		p.endAbort(ctx)
		return storeErr
	}
	commitStart := time.Now()
	committed, err := p.txn.End(ctx, kgo.TransactionEndTry(produceErr == nil))
	p.m.writes.WithLabelValues("kafka_commit").Observe(time.Since(commitStart).Seconds())
	if err != nil {
		p.discardCounts()
		return fmt.Errorf("ending the transaction: %w", err)
	}
	if !committed {
		p.discardCounts()
		p.m.storeErrors.WithLabelValues("kafka_transaction").Inc()
		wait := p.backoff(p.aborts)
		p.aborts++
		p.log.Warn("transaction aborted; the batch will be redelivered", "records", len(recs), "produce_err", produceErr, "retry_in", wait)
		p.sleep(ctx, wait)
		return nil
	}
	p.aborts = 0
	for i := range p.entries {
		delete(p.omitValue, p.entries[i].ID)
	}
	if p.opts.OnCommit != nil {
		p.opts.OnCommit(recs)
	}
	p.flushCounts()
	p.m.batches.Inc()
	p.log.Debug("batch done", "records", len(recs), "quarantined", len(p.entries), "took", time.Since(start))
	return nil
}

// produceOnce produces the routed records in the open transaction and waits
// for them; a failure is returned, not retried (the client already retried
// what can be retried; the transaction must abort).
func (p *Pipeline) produceOnce(ctx context.Context) error {
	var first error
	failed := 0
	for _, r := range p.cl.ProduceSync(ctx, p.outPtrs...) {
		if r.Err != nil {
			if r.Record.Topic == p.opts.DLQTopic && errors.Is(r.Err, kerr.MessageTooLarge) {
				p.omitValue[header(r.Record, HeaderQuarantineID)] = struct{}{}
			}
			failed++
			if first == nil {
				first = r.Err
			}
		}
	}
	if first != nil {
		p.m.storeErrors.WithLabelValues("kafka_produce").Inc()
		return fmt.Errorf("%d of %d records not acknowledged: %w", failed, len(p.outPtrs), first)
	}
	return nil
}

// endAbort aborts the open transaction at shutdown, on a context of its own
// (the work context may be over); a failure only means the broker aborts it
// after the transaction timeout.
func (p *Pipeline) endAbort(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := p.txn.End(ctx, kgo.TryAbort); err != nil {
		p.log.Warn("aborting the transaction failed; the broker aborts it after its timeout", "err", err)
	}
}

// discardCounts drops the counts of a batch that was not committed: it will
// be counted when it is.
func (p *Pipeline) discardCounts() {
	clear(p.counts)
	clear(p.ruleCounts)
	clear(p.fallbackCounts)
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func (p *Pipeline) prepare(n int) {
	if cap(p.verdicts) < n {
		p.verdicts = make([]record.Verdict, n)
		p.out = make([]kgo.Record, n)
		p.outPtrs = make([]*kgo.Record, n)
	}
	p.verdicts, p.out, p.outPtrs = p.verdicts[:n], p.out[:n], p.outPtrs[:n]
	p.entries, p.payloads = p.entries[:0], p.payloads[:0]
}

// validate runs the engine, retrying operational failures (a resolver that
// cannot reach its backend): an outage must never quarantine a record.
func (p *Pipeline) validate(ctx context.Context, kr *kgo.Record, v *record.Verdict) error {
	rec := record.Record{
		Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset,
		Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp,
	}
	// The one header validation reads; copied only when present, so
	// records without it cost nothing.
	for _, h := range kr.Headers {
		if h.Key == wire.ValueSchemaIDHeader {
			rec.Headers = append(rec.Headers, record.Header{Key: h.Key, Value: h.Value})
		}
	}
	return p.retry(ctx, "schema_resolver", func() error {
		start := time.Now()
		err := p.opts.Engine.Validate(&rec, v)
		p.observer(kr.Topic).Observe(time.Since(start).Seconds())
		return err
	})
}

// minPerValidator is the fewest records worth a validating goroutine of
// their own.
const minPerValidator = 256

// validateAll fills p.verdicts for recs, on as many goroutines as there are
// CPUs (for batches big enough): a record's verdict depends on the record
// alone, and the routing that follows runs in order, so the order per
// partition is kept. An error is operational (the context ended while a
// schema lookup was being retried).
func (p *Pipeline) validateAll(ctx context.Context, recs []*kgo.Record) error {
	workers := min(runtime.GOMAXPROCS(0), len(recs)/minPerValidator)
	if workers <= 1 {
		for i, kr := range recs {
			if err := p.validate(ctx, kr, &p.verdicts[i]); err != nil {
				return err
			}
		}
		return nil
	}
	prev := ""
	for _, kr := range recs {
		if kr.Topic != prev { // a batch holds runs of one topic's records
			p.observer(kr.Topic) // created here: the goroutines only read the map
			prev = kr.Topic
		}
	}
	errs := make(chan error, workers)
	chunk := (len(recs) + workers - 1) / workers
	for lo := 0; lo < len(recs); lo += chunk {
		go func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if err := p.validate(ctx, recs[i], &p.verdicts[i]); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(lo, min(lo+chunk, len(recs)))
	}
	var first error
	for lo := 0; lo < len(recs); lo += chunk {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (p *Pipeline) observer(topic string) prometheus.Observer {
	o, ok := p.observers[topic]
	if !ok {
		o = p.m.duration.WithLabelValues(topic)
		p.observers[topic] = o
	}
	return o
}

type fallbackKey struct {
	subject  string
	from, to int
}

// route fills out with the record to produce for kr: the clean topic for a
// valid record (key, value, headers and timestamp as received), the DLQ with
// dq.* headers for an invalid one, which is also queued for the stores.
func (p *Pipeline) route(kr *kgo.Record, v *record.Verdict, out *kgo.Record, now time.Time) {
	*out = kgo.Record{
		Key:       kr.Key,
		Value:     kr.Value,
		Headers:   kr.Headers,
		Timestamp: kr.Timestamp,
		// SourcePartitioner keeps the source partition (mod the count).
		Partition: kr.Partition,
	}
	if v.Valid() {
		out.Topic = p.opts.CleanTopic
		p.counts[countKey{kr.Topic, v.Subject, ""}]++
		if v.FallbackFrom != 0 {
			// Labelled so consumers know the record is of an older
			// version than the enforced one.
			h := make([]kgo.RecordHeader, 0, len(kr.Headers)+2)
			h = append(h, kr.Headers...)
			h = append(h,
				kgo.RecordHeader{Key: HeaderSchemaSubject, Value: []byte(v.Subject)},
				kgo.RecordHeader{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(v.Version))},
			)
			out.Headers = h
			p.fallbackCounts[fallbackKey{v.Subject, v.FallbackFrom, v.Version}]++
		}
		return
	}
	out.Topic = p.opts.DLQTopic
	primary := v.Primary()
	p.counts[countKey{kr.Topic, v.Subject, primary.Type}]++

	id := record.ID(kr.Topic, kr.Partition, kr.Offset)
	errs := append([]record.Violation(nil), v.Violations...)
	for i := range errs {
		if errs[i].Type == record.RuleViolation {
			p.ruleCounts[[2]string{v.Subject, errs[i].Keyword}]++
		}
	}
	h := make([]kgo.RecordHeader, 0, len(kr.Headers)+12)
	h = append(h, kr.Headers...)
	h = append(h,
		kgo.RecordHeader{Key: HeaderErrorType, Value: []byte(primary.Type)},
		kgo.RecordHeader{Key: HeaderErrorField, Value: []byte(truncate(primary.Field, maxHeaderText))},
		kgo.RecordHeader{Key: HeaderErrorMessage, Value: []byte(truncate(primary.Message, maxHeaderText))},
		kgo.RecordHeader{Key: HeaderErrors, Value: errorsHeader(errs)},
		kgo.RecordHeader{Key: HeaderSchemaSubject, Value: []byte(v.Subject)},
		kgo.RecordHeader{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(v.Version))},
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: []byte(kr.Topic)},
		kgo.RecordHeader{Key: HeaderSourcePartition, Value: []byte(strconv.FormatInt(int64(kr.Partition), 10))},
		kgo.RecordHeader{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(kr.Offset, 10))},
		kgo.RecordHeader{Key: HeaderQuarantineID, Value: []byte(id)},
		kgo.RecordHeader{Key: HeaderQuarantinedAt, Value: []byte(now.Format(time.RFC3339Nano))},
	)
	if len(errs) > maxHeaderErrors {
		h = append(h, kgo.RecordHeader{Key: HeaderErrorsTotal, Value: []byte(strconv.Itoa(len(errs)))})
	}
	h = p.opts.DLQCompat.appendTo(h, kr, v)
	out.Headers = h
	if _, ok := p.omitValue[id]; ok {
		p.omitOversizedDLQValue(out, kerr.MessageTooLarge)
	}

	headers := make([]record.Header, len(kr.Headers))
	for i, kh := range kr.Headers {
		headers[i] = record.Header{Key: kh.Key, Value: kh.Value}
	}
	p.payloads = append(p.payloads, quarantine.Payload{Value: kr.Value, Headers: headers})
	p.entries = append(p.entries, quarantine.Entry{
		ID:              id,
		SourceTopic:     kr.Topic,
		SourcePartition: kr.Partition,
		SourceOffset:    kr.Offset,
		Key:             kr.Key,
		Timestamp:       kr.Timestamp,
		QuarantinedAt:   now,
		Subject:         v.Subject,
		SchemaVersion:   v.Version,
		ErrorType:       primary.Type,
		ErrorField:      primary.Field,
		Errors:          errs,
		PayloadSize:     len(kr.Value),
		Status:          quarantine.StatusQuarantined,
	})
}

// writeQuarantine writes the batch's payloads as one segment, then the
// metadata rows pointing into it, each retried until durable.
func (p *Pipeline) writeQuarantine(ctx context.Context) error {
	name := segmentName(p.entries)
	var refs []quarantine.PayloadRef
	start := time.Now()
	err := p.retry(ctx, "payloads", func() (err error) {
		refs, err = p.opts.Payloads.WriteSegment(ctx, name, p.payloads)
		return err
	})
	if err != nil {
		return err
	}
	p.m.writes.WithLabelValues("payloads").Observe(time.Since(start).Seconds())
	for i := range p.entries {
		p.entries[i].Payload = refs[i]
	}
	start = time.Now()
	err = p.retry(ctx, "metadata", func() error {
		return p.opts.Metadata.Insert(ctx, p.entries)
	})
	if err == nil {
		p.m.writes.WithLabelValues("metadata").Observe(time.Since(start).Seconds())
	}
	return err
}

// segmentName derives the segment name from the ids it holds, so a
// redelivered batch rewrites the same segment with the same bytes instead of
// leaving a second copy that rows could point at.
func segmentName(entries []quarantine.Entry) string {
	h := sha256.New()
	for i := range entries {
		h.Write([]byte(entries[i].ID))
	}
	var sum [sha256.Size]byte
	return "seg-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// produce sends every routed record and waits for all acknowledgements,
// re-producing only the failed ones until all are acknowledged.
func (p *Pipeline) produce(ctx context.Context) error {
	pending := p.outPtrs
	start := time.Now()
	defer func() { p.m.writes.WithLabelValues("kafka_produce").Observe(time.Since(start).Seconds()) }()
	return p.retry(ctx, "kafka_produce", func() error {
		results := p.cl.ProduceSync(ctx, pending...)
		var failed []*kgo.Record
		var first error
		for _, r := range results {
			if r.Err != nil {
				p.omitOversizedDLQValue(r.Record, r.Err)
				failed = append(failed, r.Record)
				if first == nil {
					first = r.Err
				}
			}
		}
		if first == nil {
			return nil
		}
		pending = failed
		return fmt.Errorf("%d of %d records not acknowledged: %w", len(failed), len(results), first)
	})
}

// omitOversizedDLQValue drops the value of a DLQ record the broker refused
// as too large (the dq.* headers can push a record that fit the input topic
// over the limit): the payload is already durable in the payload store, so
// the DLQ record carries its headers and a note instead of retrying forever.
// A clean-topic record is never altered; it is retried until an operator
// raises the clean topic's limit.
func (p *Pipeline) omitOversizedDLQValue(r *kgo.Record, err error) {
	if r.Topic != p.opts.DLQTopic || r.Value == nil || !errors.Is(err, kerr.MessageTooLarge) {
		return
	}
	note := fmt.Sprintf("the %d-byte value exceeds the DLQ topic's message size limit; it is kept in the payload store", len(r.Value))
	r.Value = nil
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderPayloadOmitted, Value: []byte(note)})
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
		p.sleep(ctx, p.backoff(attempt))
	}
	if err != nil {
		p.m.storeErrors.WithLabelValues("kafka_commit").Inc()
		p.log.Error("committing offsets failed; the batch will be redelivered", "records", len(recs), "err", err)
	}
}

func (p *Pipeline) flushCounts() {
	if p.opts.Circuit != nil {
		p.recordCircuit()
	}
	for k, n := range p.counts {
		p.m.processed.WithLabelValues(k.topic, k.subject).Add(float64(n))
		if k.errorType == "" {
			p.m.valid.WithLabelValues(k.topic, k.subject).Add(float64(n))
		} else {
			p.m.invalid.WithLabelValues(k.topic, k.subject, string(k.errorType)).Add(float64(n))
		}
		delete(p.counts, k)
	}
	for k, n := range p.ruleCounts {
		p.m.rules.WithLabelValues(k[0], k[1]).Add(float64(n))
		delete(p.ruleCounts, k)
	}
	for k, n := range p.fallbackCounts {
		p.m.fallbacks.WithLabelValues(k.subject, strconv.Itoa(k.from), strconv.Itoa(k.to)).Add(float64(n))
		delete(p.fallbackCounts, k)
	}
}

// recordCircuit sums the batch's counts per topic for the breaker.
func (p *Pipeline) recordCircuit() {
	type vi struct{ valid, invalid int64 }
	byTopic := make(map[string]vi, 1)
	for k, n := range p.counts {
		c := byTopic[k.topic]
		if k.errorType == "" {
			c.valid += n
		} else {
			c.invalid += n
		}
		byTopic[k.topic] = c
	}
	for topic, c := range byTopic {
		p.opts.Circuit.Record(topic, c.valid, c.invalid)
	}
}

// retry calls fn until it succeeds or ctx ends, backing off exponentially.
func (p *Pipeline) retry(ctx context.Context, what string, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			if attempt > 0 {
				p.log.Info("recovered", "what", what, "attempts", attempt+1)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: giving up at shutdown: %w", what, err)
		}
		p.m.storeErrors.WithLabelValues(what).Inc()
		wait := p.backoff(attempt)
		p.log.Warn("write failed; retrying", "what", what, "attempt", attempt+1, "in", wait, "err", err)
		p.sleep(ctx, wait)
	}
}

func (p *Pipeline) backoff(attempt int) time.Duration {
	d := p.opts.RetryBackoffMin << min(attempt, 20)
	return min(d, p.opts.RetryBackoffMax)
}

func (p *Pipeline) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
