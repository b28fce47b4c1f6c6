package dlqimport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// ImportOptions configure Import.
type ImportOptions struct {
	// KafkaOpts reach the cluster holding Topic (seed brokers, and TLS or
	// SASL when needed); Import adds its consumer options. Required.
	KafkaOpts []kgo.Opt
	// Topic is the dead-letter topic to read. Required.
	Topic string
	// Format is who wrote it. Required.
	Format Format
	// SourceTopic is Options.SourceTopic of Convert. Default "".
	SourceTopic string
	// Ingester writes the records (pipeline.NewIngester over the
	// quarantine stores). Required.
	Ingester *pipeline.Ingester
	// Metadata is read to tell records already in the quarantine from new
	// ones (the counts; a failed read only means the record is written
	// again, which stores nothing twice). Required.
	Metadata quarantine.MetadataStore
	// BatchSize caps the records written per batch. Default 500.
	BatchSize int
	// MaxBatchBytes caps the value bytes written per batch (one larger
	// record still makes a batch of its own). Default 16 MiB.
	MaxBatchBytes int
	// IdleTimeout fails the import when no record arrives for this long
	// while some partition is not yet read to its end (a broker gone, a
	// partition that cannot be read). Default 2m.
	IdleTimeout time.Duration
	// Now is Convert's clock. Default time.Now.
	Now func() time.Time
	// Progress, when set, is called after each batch is durable.
	Progress func(Result)
	// Logger: default slog.Default().
	Logger *slog.Logger
}

// Result counts what an import did.
type Result struct {
	// Partitions is how many partitions the topic has.
	Partitions int `json:"partitions"`
	// Read is how many records were read (control records excluded).
	Read int64 `json:"read"`
	// Imported is how many became new quarantine rows.
	Imported int64 `json:"imported"`
	// Skipped is how many were in the quarantine already (an earlier
	// import, or the same original record dead-lettered twice).
	Skipped int64 `json:"skipped"`
	// ByErrorType counts the imported rows by primary error type.
	ByErrorType map[record.ErrorType]int64 `json:"by_error_type"`
	// MissingHeaders counts the imported rows whose record lacked its
	// format's headers (their error says so: KeywordMissingHeaders).
	MissingHeaders int64 `json:"missing_headers"`
}

// ErrNoTopic means the topic to import does not exist.
var ErrNoTopic = errors.New("the topic does not exist")

// Import reads the whole of opts.Topic, from its earliest offsets to the
// ends they had when the import started (records committed later are left
// for a next import or a follower), into the quarantine: Convert each
// record, then write it with opts.Ingester, a bounded batch at a time. It
// returns the counts, and an error when the topic cannot be read or ctx
// ends first (what was written stays written; importing again adds only
// the rest).
func Import(ctx context.Context, opts ImportOptions) (Result, error) {
	res := Result{ByErrorType: map[record.ErrorType]int64{}}
	switch {
	case opts.Topic == "" || opts.Ingester == nil || opts.Metadata == nil || len(opts.KafkaOpts) == 0:
		return res, errors.New("dlqimport: ImportOptions.KafkaOpts, Topic, Ingester and Metadata are required")
	case opts.Format == "":
		return res, errors.New("dlqimport: ImportOptions.Format is required")
	}
	opts.BatchSize = cmp.Or(max(opts.BatchSize, 0), 500)
	opts.MaxBatchBytes = cmp.Or(max(opts.MaxBatchBytes, 0), 16<<20)
	opts.IdleTimeout = cmp.Or(max(opts.IdleTimeout, 0), 2*time.Minute)
	log := cmp.Or(opts.Logger, slog.Default()).With("component", "dlqimport", "topic", opts.Topic)

	start, end, err := bounds(ctx, opts.KafkaOpts, opts.Topic)
	if err != nil {
		return res, err
	}
	res.Partitions = len(end)
	from := make(map[int32]kgo.Offset, len(start))
	pending := make(map[int32]int64) // partition -> end still to reach
	for p, e := range end {
		if s := start[p]; s < e {
			from[p] = kgo.NewOffset().At(s)
			pending[p] = e
		}
	}
	if len(pending) == 0 {
		log.Info("nothing to import: the topic is empty")
		return res, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts.KafkaOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{opts.Topic: from}),
		// Transactions' markers are returned too, so a partition whose last
		// offset is one is seen to end.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxBytes(int32(min(opts.MaxBatchBytes, 64<<20))),
	)...)
	if err != nil {
		return res, fmt.Errorf("creating the consumer: %w", err)
	}
	defer cl.Close()

	conv := Options{SourceTopic: opts.SourceTopic, Now: opts.Now}
	var b batch
	flush := func() error {
		if err := b.write(ctx, &opts, &res); err != nil {
			return err
		}
		if opts.Progress != nil {
			opts.Progress(res)
		}
		return nil
	}
	lastProgress := time.Now()
	for len(pending) > 0 {
		pollCtx, cancel := context.WithTimeout(ctx, opts.IdleTimeout)
		fetches := cl.PollRecords(pollCtx, opts.BatchSize)
		cancel()
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var fetchErr error
		fetches.EachError(func(_ string, p int32, err error) {
			var loss *kgo.ErrDataLoss
			switch {
			case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			case errors.As(err, &loss):
				// Retention deleted records ahead of the import: it goes on
				// from the new start.
				log.Warn("records were deleted before they were read", "partition", p, "err", err)
			case fetchErr == nil:
				// The client retries what can be retried before it
				// reports: what reaches here would stall the import.
				fetchErr = fmt.Errorf("reading %s partition %d: %w", opts.Topic, p, err)
			}
		})
		if fetchErr != nil {
			return res, fetchErr
		}
		recs := fetches.Records()
		if len(recs) == 0 {
			if time.Since(lastProgress) >= opts.IdleTimeout {
				return res, fmt.Errorf("reading %s: no record for %s with partitions %v not read to their end", opts.Topic, opts.IdleTimeout, pendingList(pending))
			}
			continue
		}
		lastProgress = time.Now()
		for _, kr := range recs {
			endAt, ok := pending[kr.Partition]
			if !ok || kr.Offset >= endAt {
				continue // past the end this import reads to
			}
			if kr.Offset+1 >= endAt {
				delete(pending, kr.Partition)
				cl.PauseFetchPartitions(map[string][]int32{opts.Topic: {kr.Partition}})
			}
			if kr.Attrs.IsControl() {
				continue
			}
			res.Read++
			e, p := Convert(opts.Format, kr, conv)
			b.add(e, p)
			if len(b.entries) >= opts.BatchSize || b.bytes >= opts.MaxBatchBytes {
				if err := flush(); err != nil {
					return res, err
				}
			}
		}
	}
	if len(b.entries) > 0 {
		if err := flush(); err != nil {
			return res, err
		}
	}
	log.Info("import done", "read", res.Read, "imported", res.Imported, "skipped", res.Skipped)
	return res, nil
}

// bounds returns each partition's earliest offset and the end the import
// reads to: the last stable offset (read_committed's end).
func bounds(ctx context.Context, kopts []kgo.Opt, topic string) (start, end map[int32]int64, err error) {
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the Kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	list := func(what string, f func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
		offs, err := f(ctx, topic)
		if err != nil {
			return nil, fmt.Errorf("listing the %s offsets of %s: %w", what, topic, err)
		}
		out := map[int32]int64{}
		for p, o := range offs[topic] {
			if errors.Is(o.Err, kerr.UnknownTopicOrPartition) {
				return nil, fmt.Errorf("%s: %w", topic, ErrNoTopic)
			}
			if o.Err != nil {
				return nil, fmt.Errorf("listing the %s offset of %s partition %d: %w", what, topic, p, o.Err)
			}
			out[p] = o.Offset
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: %w", topic, ErrNoTopic)
		}
		return out, nil
	}
	if start, err = list("start", adm.ListStartOffsets); err != nil {
		return nil, nil, err
	}
	if end, err = list("end", adm.ListCommittedOffsets); err != nil {
		return nil, nil, err
	}
	return start, end, nil
}

func pendingList(pending map[int32]int64) []int32 {
	out := make([]int32, 0, len(pending))
	for p := range pending {
		out = append(out, p)
	}
	return out
}

// batch is the records read and not yet written.
type batch struct {
	entries  []quarantine.Entry
	payloads []quarantine.Payload
	bytes    int
}

func (b *batch) add(e quarantine.Entry, p quarantine.Payload) {
	b.entries = append(b.entries, e)
	b.payloads = append(b.payloads, p)
	b.bytes += len(p.Value)
}

// lookups is how many existence checks a batch runs at once: the stores'
// read pools serve several (SQLite's 4 readers, PostgreSQL's pool).
const lookups = 4

// write stores the batch's records not yet in the quarantine, counting
// them into res, and empties the batch.
func (b *batch) write(ctx context.Context, opts *ImportOptions, res *Result) error {
	defer func() { b.entries, b.payloads, b.bytes = b.entries[:0], b.payloads[:0], 0 }()
	// Keep the first of each id in the batch, then drop those stored
	// already: the counts say what is new, and a re-import writes no
	// payload segment nobody points at.
	seen := make(map[string]bool, len(b.entries))
	keep := make([]int, 0, len(b.entries))
	for i := range b.entries {
		if id := b.entries[i].ID; !seen[id] {
			seen[id] = true
			keep = append(keep, i)
		}
	}
	res.Skipped += int64(len(b.entries) - len(keep))
	stored := make([]bool, len(keep))
	var g errgroup.Group
	g.SetLimit(lookups)
	for k, i := range keep {
		g.Go(func() error {
			_, err := opts.Metadata.Get(ctx, b.entries[i].ID)
			// A failed read (not ErrNotFound) leaves the record to be
			// written: the store keeps one row per id anyway.
			stored[k] = err == nil
			return nil
		})
	}
	_ = g.Wait() // the lookups return no error
	entries := make([]quarantine.Entry, 0, len(keep))
	payloads := make([]quarantine.Payload, 0, len(keep))
	for k, i := range keep {
		if stored[k] {
			res.Skipped++
			continue
		}
		entries = append(entries, b.entries[i])
		payloads = append(payloads, b.payloads[i])
	}
	if err := opts.Ingester.Write(ctx, entries, payloads); err != nil {
		return fmt.Errorf("writing %d records to the quarantine: %w", len(entries), err)
	}
	for i := range entries {
		res.Imported++
		res.ByErrorType[entries[i].ErrorType]++
		if entries[i].Errors[0].Keyword == KeywordMissingHeaders {
			res.MissingHeaders++
		}
	}
	return nil
}
