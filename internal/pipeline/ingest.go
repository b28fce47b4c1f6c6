package pipeline

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// IngestOptions configure an Ingester.
type IngestOptions struct {
	// Client consumes the followed topics in a consumer group; build it
	// with kafka.NewGroupClient (manual commits, blocked rebalances). Run
	// needs it; an Ingester that only writes (Write) does not.
	Client *kgo.Client
	// Convert makes each consumed record's metadata row and payload. It
	// judges the record alone and never fails: a record it cannot make
	// sense of still becomes a row saying why. Run needs it.
	Convert func(*kgo.Record) (quarantine.Entry, quarantine.Payload)
	// Metadata and Payloads store the records. Required.
	Metadata quarantine.MetadataStore
	Payloads quarantine.PayloadStore
	// Metrics receive the write latencies and store errors, as the
	// pipeline's do. Default: metrics on a private registry.
	Metrics *Metrics
	// BatchSize caps the records polled per batch. Default 500.
	BatchSize int
	// RetryBackoffMin and RetryBackoffMax bound the back-off between
	// retries of a failed write. Defaults 100ms and 10s.
	RetryBackoffMin time.Duration
	RetryBackoffMax time.Duration
	// ShutdownGrace is how long the batch in flight may take to finish its
	// writes and commit after Run's context ends. Default 30s.
	ShutdownGrace time.Duration
	// MaxBatchHold bounds how long Run's batch may hold the group's
	// rebalance block while its writes fail (a store outage): it is then
	// released, uncommitted, and polled again, as the pipeline's are.
	// Default 30s.
	MaxBatchHold time.Duration
	// OnCommit, when set, is called after each batch Run wrote is durable
	// and its offsets committed, with the batch's records. It must not
	// retain recs.
	OnCommit func(recs []*kgo.Record)
	// Logger: default slog.Default().
	Logger *slog.Logger
}

// Ingester writes records judged elsewhere into the quarantine, such as the
// records of another tool's dead-letter topic (package dlqimport), with the
// pipeline's discipline and its retry and commit code: a batch's payloads as
// one segment (named after its ids and bytes: see ingestSegmentName), then
// its metadata rows, each retried with back-off until durable (an outage
// never drops or mis-files a record), and only then its offsets committed.
// Every write is keyed by the entries' ids, so a redelivered batch adds
// nothing.
type Ingester struct {
	p        *Pipeline // the write, retry and commit machinery; never validates
	convert  func(*kgo.Record) (quarantine.Entry, quarantine.Payload)
	grace    time.Duration
	onCommit func([]*kgo.Record)
}

// NewIngester returns an Ingester.
func NewIngester(opts IngestOptions) (*Ingester, error) {
	if opts.Metadata == nil || opts.Payloads == nil {
		return nil, errors.New("pipeline: IngestOptions.Metadata and IngestOptions.Payloads are required")
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	minWait := cmp.Or(max(opts.RetryBackoffMin, 0), 100*time.Millisecond)
	maxWait := opts.RetryBackoffMax
	if maxWait < minWait {
		maxWait = max(10*time.Second, minWait)
	}
	p := &Pipeline{
		opts: Options{
			Metadata: opts.Metadata, Payloads: opts.Payloads, Metrics: opts.Metrics,
			BatchSize:       cmp.Or(max(opts.BatchSize, 0), 500),
			RetryBackoffMin: minWait, RetryBackoffMax: maxWait,
			MaxBatchHold: cmp.Or(max(opts.MaxBatchHold, 0), 30*time.Second),
			Logger:       opts.Logger,
		},
		cl:  opts.Client,
		log: opts.Logger.With("component", "ingest"),
		m:   opts.Metrics,
	}
	return &Ingester{
		p: p, convert: opts.Convert, onCommit: opts.OnCommit,
		grace: cmp.Or(max(opts.ShutdownGrace, 0), 30*time.Second),
	}, nil
}

// Write stores entries and their payloads (in the same order; each entry's
// Payload ref is filled in), returning once both are durable: the payloads
// as one segment, then the rows pointing into it, each retried with the
// pipeline's back-off. It returns an error only when ctx ends first.
func (in *Ingester) Write(ctx context.Context, entries []quarantine.Entry, payloads []quarantine.Payload) error {
	if len(entries) != len(payloads) {
		return errors.New("pipeline: Write needs one payload per entry")
	}
	if len(entries) == 0 {
		return nil
	}
	return in.p.writeSegment(ctx, ingestSegmentName(entries, payloads), entries, payloads)
}

// ingestSegmentName names an ingested batch's segment after its ids and
// its payloads' bytes. Unlike a pipeline batch, whose records' content is
// fixed by their ids (topic, partition, offset), two imported records can
// share an id and differ (one original record dead-lettered twice, with
// other headers; a record this gateway quarantined, read back from a DLQ
// with dq.* headers added): a name from the ids alone would let the second
// write overwrite the segment the first one's row points into. The same
// batch written again gets the same name, so a redelivery still rewrites
// rather than adds; the prefix keeps the names apart from the pipeline's.
func ingestSegmentName(entries []quarantine.Entry, payloads []quarantine.Payload) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	field := func(b []byte, null bool) {
		l := int64(len(b))
		if null {
			l = -1
		}
		h.Write(n[:binary.PutVarint(n[:], l)])
		h.Write(b)
	}
	for i := range entries {
		field([]byte(entries[i].ID), false)
		field(payloads[i].Value, payloads[i].Value == nil)
		h.Write(n[:binary.PutVarint(n[:], int64(len(payloads[i].Headers)))])
		for _, hd := range payloads[i].Headers {
			field([]byte(hd.Key), false)
			field(hd.Value, hd.Value == nil)
		}
	}
	var sum [sha256.Size]byte
	return "imp-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Run follows the client's topics until ctx ends: it polls a batch,
// converts each record, writes the batch (Write) and only then commits its
// offsets. The batch in flight when ctx ends gets ShutdownGrace to finish,
// so a clean stop leaves nothing to redeliver. Run returns nil after a
// clean stop, or the error that stopped it.
func (in *Ingester) Run(ctx context.Context) error {
	if in.p.cl == nil || in.convert == nil {
		return errors.New("pipeline: an Ingester needs IngestOptions.Client and Convert to Run")
	}
	entries := make([]quarantine.Entry, 0, in.p.opts.BatchSize)
	payloads := make([]quarantine.Payload, 0, in.p.opts.BatchSize)
	return in.p.follow(ctx, in.grace, func(work, hold context.Context, recs []*kgo.Record) error {
		entries, payloads = entries[:0], payloads[:0]
		for _, kr := range recs {
			e, p := in.convert(kr)
			entries, payloads = append(entries, e), append(payloads, p)
		}
		if err := in.Write(hold, entries, payloads); err != nil {
			return err
		}
		in.p.commit(work, recs)
		if in.onCommit != nil {
			in.onCommit(recs)
		}
		return nil
	})
}
