package dlqimport

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// Follow is one dead-letter topic a Follower reads.
type Follow struct {
	Topic  string
	Format Format
	// SourceTopic is Options.SourceTopic of Convert for this topic.
	SourceTopic string
}

// FollowerOptions configure a Follower.
type FollowerOptions struct {
	// Client consumes the followed topics in a consumer group of their own
	// (kafka.NewGroupClient: manual commits, blocked rebalances); the app
	// names it <kafka.group_id>-dlq-import. Required.
	Client *kgo.Client
	// Follows are the topics, with who wrote each. Required.
	Follows []Follow
	// Metadata and Payloads store the records. Required.
	Metadata quarantine.MetadataStore
	Payloads quarantine.PayloadStore
	// Metrics are the pipeline's, for the write latencies and errors.
	// Default: metrics on a private registry.
	Metrics *pipeline.Metrics
	// BatchSize caps the records written per batch. Default 500.
	BatchSize int
	// RetryBackoffMin and RetryBackoffMax bound the back-off between
	// retries of a failed write. Defaults 100ms and 10s.
	RetryBackoffMin time.Duration
	RetryBackoffMax time.Duration
	// MaxBatchHold bounds how long a batch whose writes fail holds the
	// group's rebalance block before it is released and polled again.
	// Default 30s.
	MaxBatchHold time.Duration
	// Registerer receives dlq_import_records_total. Default: none.
	Registerer prometheus.Registerer
	// Now is Convert's clock. Default time.Now.
	Now func() time.Time
	// Logger: default slog.Default().
	Logger *slog.Logger
}

// Follower imports dead-letter topics continuously: serve's
// topics.imports. Each record is converted (Convert) and written by a
// pipeline.Ingester, which commits the group's offsets only once the
// batch is durable; a restart goes on where the group left off, and a
// record read twice is stored once.
type Follower struct {
	in *pipeline.Ingester
}

// NewFollower returns a Follower.
func NewFollower(opts FollowerOptions) (*Follower, error) {
	if opts.Client == nil || len(opts.Follows) == 0 {
		return nil, errors.New("dlqimport: FollowerOptions.Client and Follows are required")
	}
	byTopic := make(map[string]Follow, len(opts.Follows))
	for _, f := range opts.Follows {
		byTopic[f.Topic] = f
	}
	records := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dlq_import_records_total",
		Help: "Records of followed dead-letter topics (topics.imports) written to the quarantine and committed, by topic and writer format; a record already stored counts again.",
	}, []string{"topic", "from"})
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(records); err != nil {
			return nil, err
		}
	}
	for _, f := range opts.Follows {
		records.WithLabelValues(f.Topic, string(f.Format)) // a series from the start, at 0
	}
	in, err := pipeline.NewIngester(pipeline.IngestOptions{
		Client: opts.Client,
		Convert: func(kr *kgo.Record) (quarantine.Entry, quarantine.Payload) {
			f := byTopic[kr.Topic]
			return Convert(f.Format, kr, Options{SourceTopic: f.SourceTopic, Now: opts.Now})
		},
		Metadata: opts.Metadata, Payloads: opts.Payloads, Metrics: opts.Metrics,
		BatchSize: opts.BatchSize, RetryBackoffMin: opts.RetryBackoffMin, RetryBackoffMax: opts.RetryBackoffMax,
		MaxBatchHold: opts.MaxBatchHold,
		OnCommit: func(recs []*kgo.Record) {
			for _, kr := range recs {
				records.WithLabelValues(kr.Topic, string(byTopic[kr.Topic].Format)).Inc()
			}
		},
		Logger: opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Follower{in: in}, nil
}

// Run follows the topics until ctx ends; see pipeline.Ingester.Run.
func (f *Follower) Run(ctx context.Context) error { return f.in.Run(ctx) }
