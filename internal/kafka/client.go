package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// GroupOptions configure NewGroupClient.
type GroupOptions struct {
	// Brokers are the seed brokers. Required.
	Brokers []string
	// ClientID identifies the client to brokers. Default "dataquarantine".
	ClientID string
	// GroupID is the consumer group. Required.
	GroupID string
	// Topics are consumed. Required.
	Topics []string
	// OnAssigned, when set, is called after partitions are assigned.
	OnAssigned func(map[string][]int32)
	// MaxBufferedRecords bounds records buffered for producing. Default 20000.
	MaxBufferedRecords int
	// FetchMaxBytes bounds one fetch response, and so the consumed data
	// buffered ahead of the pipeline. Default 4 MiB: compressed bytes, which
	// decompress to several times as much (the 2M-record benchmark's peak
	// RSS fell from ~300 to ~245 MB going from 16 to 4 MiB).
	FetchMaxBytes int32
	// SessionTimeout is the group session timeout: how long the group waits
	// for a silent member before reassigning its partitions. Heartbeats go
	// every third of it, at most every 3s. Default 45s.
	SessionTimeout time.Duration
	// Limits caps the producer's batches per topic at the topics'
	// max.message.bytes (fill it with TopicLimits.Read before producing).
	// Default: DefaultMaxMessageBytes for every topic.
	Limits *TopicLimits
	// Compression is the codec of produced batches: "none", "gzip",
	// "snappy", "lz4" or "zstd". Default "none": every Kafka client can
	// read it (kafkajs, for one, reads only gzip without a plugin).
	Compression string
	// Logger receives the client's warnings and errors. Default slog.Default().
	Logger *slog.Logger
	// InstanceID makes the client a static group member (KIP-345; see
	// staticMembership). Default "": dynamic.
	InstanceID string
	// OnFenced, with InstanceID, is called when the broker fences this
	// member: another process joined the group with the same instance id.
	// OnAssigned is called again if it rejoins.
	OnFenced func(error)
}

// NewGroupClient returns a client that consumes opts.Topics in a consumer
// group and produces, set up for at-least-once with zero loss:
//   - offsets are committed only by the caller (auto-commit off);
//   - rebalances wait while a polled batch is in flight (BlockRebalanceOnPoll),
//     so a partition is never revoked between processing and committing;
//     the caller must call AllowRebalance after each batch;
//   - a new group starts at the earliest offset, so nothing produced before
//     the first start is skipped;
//   - read_committed, so aborted transactional input is never validated;
//   - memory is bounded: one fetch of at most FetchMaxBytes is buffered
//     ahead of the pipeline, and at most MaxBufferedRecords wait to be
//     produced;
//   - the producer is idempotent with acks=all (franz-go's defaults) and
//     retries forever; records keep their source partition modulo the
//     output topic's partition count (SourcePartitioner).
func NewGroupClient(opts GroupOptions) (*kgo.Client, error) {
	kopts, err := groupOpts(opts)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return cl, nil
}

// NewTransactSession returns a session for exactly-once processing: a client
// set up as NewGroupClient's, whose produces and offset commits go in Kafka
// transactions under transactionalID. The id must be unique to one gateway
// process and should stay the same across its restarts, so that a restarted
// process fences its predecessor's open transaction at once instead of
// waiting for it to time out. Transactions time out after SessionTimeout. Consumers of the outputs must read with
// isolation read_committed to see each record once.
func NewTransactSession(opts GroupOptions, transactionalID string) (*kgo.GroupTransactSession, error) {
	if transactionalID == "" {
		return nil, errors.New("kafka: a transactional id is required")
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = defaultSessionTimeout
	}
	kopts, err := groupOpts(opts)
	if err != nil {
		return nil, err
	}
	// A transaction a crashed process left open holds its partitions'
	// offsets for other members until it times out: as long as a silent
	// member holds its partitions.
	kopts = append(kopts, kgo.TransactionalID(transactionalID), kgo.TransactionTimeout(opts.SessionTimeout))
	s, err := kgo.NewGroupTransactSession(kopts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka transact session: %w", err)
	}
	return s, nil
}

func groupOpts(opts GroupOptions) ([]kgo.Opt, error) {
	if len(opts.Brokers) == 0 || opts.GroupID == "" || len(opts.Topics) == 0 {
		return nil, errors.New("kafka: Brokers, GroupID and Topics are required")
	}
	if opts.ClientID == "" {
		opts.ClientID = "dataquarantine"
	}
	if opts.MaxBufferedRecords <= 0 {
		opts.MaxBufferedRecords = 20000
	}
	if opts.FetchMaxBytes <= 0 {
		opts.FetchMaxBytes = 4 << 20
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = defaultSessionTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	produce, err := producerOpts(opts.Limits, opts.Compression)
	if err != nil {
		return nil, err
	}
	kopts := []kgo.Opt{
		kgo.SeedBrokers(opts.Brokers...),
		kgo.ClientID(opts.ClientID),
		kgo.WithLogger(clientLogger{opts.Logger.With("component", "kafka")}),
		kgo.ConsumerGroup(opts.GroupID),
		kgo.ConsumeTopics(opts.Topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(opts.SessionTimeout),
		kgo.HeartbeatInterval(min(3*time.Second, opts.SessionTimeout/3)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.MaxBufferedRecords(opts.MaxBufferedRecords),
		kgo.FetchMaxBytes(opts.FetchMaxBytes),
	}
	kopts = append(kopts, produce...)
	kopts = append(kopts, staticMembership(opts.InstanceID, opts.OnFenced)...)
	if opts.OnAssigned != nil {
		kopts = append(kopts, kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			opts.OnAssigned(m)
		}))
	}
	return kopts, nil
}

const defaultSessionTimeout = 45 * time.Second

// ProducerOptions configure NewProducer.
type ProducerOptions struct {
	// Brokers are the seed brokers. Required.
	Brokers []string
	// ClientID identifies the client to brokers. Default "dataquarantine".
	ClientID string
	// Limits and Compression: as GroupOptions'.
	Limits      *TopicLimits
	Compression string
}

// NewProducer returns a client that produces as the group client does
// (idempotent, acks=all, source partitions kept, batches capped at each
// topic's max.message.bytes, the configured codec) and consumes nothing:
// the reprocess jobs' publisher when the group client produces only inside
// transactions.
func NewProducer(opts ProducerOptions) (*kgo.Client, error) {
	if len(opts.Brokers) == 0 {
		return nil, errors.New("kafka: Brokers are required")
	}
	if opts.ClientID == "" {
		opts.ClientID = "dataquarantine"
	}
	produce, err := producerOpts(opts.Limits, opts.Compression)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(opts.Brokers...), kgo.ClientID(opts.ClientID)}, produce...)...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka producer: %w", err)
	}
	return cl, nil
}

// producerOpts are the produce settings every client of the gateway
// shares: idempotent with acks=all (franz-go's defaults, retrying forever),
// records kept in their source partition (SourcePartitioner), sent at once,
// batches capped at the topics' max.message.bytes, compressed with codec.
func producerOpts(limits *TopicLimits, compression string) ([]kgo.Opt, error) {
	if limits == nil {
		limits = NewTopicLimits()
	}
	codec, err := Codec(compression)
	if err != nil {
		return nil, err
	}
	return []kgo.Opt{
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(SourcePartitioner()),
		kgo.ProducerLinger(0),
		kgo.ProducerBatchMaxBytesFn(limits.For),
		kgo.ProducerBatchCompression(codec),
	}, nil
}

// Compressions are the codecs kafka.compression accepts, "none" first (the
// default).
var Compressions = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// Codec returns the producer codec named name ("" is "none").
func Codec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("kafka: unknown compression %q (want one of %v)", name, Compressions)
}

// SourcePartitioner sends a record to partition r.Partition modulo the
// topic's partition count. The pipeline sets r.Partition to the source
// partition, so records of one input partition stay in one output partition,
// in order, and keep their key affinity.
func SourcePartitioner() kgo.Partitioner {
	return kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
		return func(r *kgo.Record, n int) int { return int(r.Partition) % n }
	})
}

// TopicSpec is a topic EnsureTopics creates when missing.
type TopicSpec struct {
	Name       string
	Partitions int32
	// ReplicationFactor -1 takes the broker's default.
	ReplicationFactor int16
}

// EnsureTopics's wait for a starting broker: about 5s in all.
var ensureTopicsBackoff = retry.Backoff{Min: 100 * time.Millisecond, Max: time.Second}

const ensureTopicsAttempts = 9

// EnsureTopics creates each missing topic. Existing topics are left as
// they are, whatever their partition count.
func EnsureTopics(ctx context.Context, cl *kgo.Client, specs []TopicSpec) error {
	adm := kadm.NewClient(cl)
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	// Metadata can briefly fail while a broker starts; retry an outage for
	// a few seconds.
	var existing kadm.TopicDetails
	var err error
	for attempt := 0; ; attempt++ {
		existing, err = adm.ListTopics(ctx, names...)
		if err == nil || attempt == ensureTopicsAttempts || !retry.Transient(err) ||
			!retry.Sleep(ctx, ensureTopicsBackoff.Delay(attempt)) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	for _, s := range specs {
		if d, ok := existing[s.Name]; ok && d.Err == nil {
			continue
		}
		resp, err := adm.CreateTopic(ctx, s.Partitions, s.ReplicationFactor, nil, s.Name)
		if err != nil {
			return fmt.Errorf("creating topic %s: %w", s.Name, err)
		}
		if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", s.Name, resp.Err)
		}
	}
	return nil
}
