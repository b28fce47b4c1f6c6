package dlqimport_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/dlqimport"
	"github.com/dataquarantine/dataquarantine/internal/dlqimport/dlqtest"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is a broker and the real embedded-mode stores.
type env struct {
	t        *testing.T
	addr     string
	meta     quarantine.MetadataStore
	payloads quarantine.PayloadStore
}

func newEnv(t *testing.T, opts ...kfake.Opt) *env {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })
	return &env{t: t, addr: c.ListenAddrs()[0], meta: meta, payloads: payloads}
}

func (e *env) produce(recs ...*kgo.Record) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(8<<20))
	require.NoError(e.t, err)
	defer cl.Close()
	require.NoError(e.t, cl.ProduceSync(context.Background(), recs...).FirstErr())
}

func (e *env) importTopic(topic string, f dlqimport.Format, opts dlqimport.ImportOptions) (dlqimport.Result, error) {
	e.t.Helper()
	in, err := pipeline.NewIngester(pipeline.IngestOptions{Metadata: e.meta, Payloads: e.payloads, RetryBackoffMin: time.Millisecond})
	require.NoError(e.t, err)
	opts.KafkaOpts = []kgo.Opt{kgo.SeedBrokers(e.addr)}
	opts.Topic, opts.Format, opts.Ingester, opts.Metadata = topic, f, in, e.meta
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return dlqimport.Import(ctx, opts)
}

func (e *env) rows() map[string]quarantine.Entry {
	e.t.Helper()
	out := map[string]quarantine.Entry{}
	f := quarantine.Filter{Limit: quarantine.MaxLimit}
	for {
		page, err := e.meta.List(context.Background(), f)
		require.NoError(e.t, err)
		for _, en := range page.Entries {
			out[en.ID] = en
		}
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

// requireStored checks the row for dead-letter record r exists with its
// payload, value and headers, byte for byte.
func (e *env) requireStored(id string, r *kgo.Record) quarantine.Entry {
	e.t.Helper()
	en, err := e.meta.Get(context.Background(), id)
	require.NoError(e.t, err)
	p, err := e.payloads.Read(context.Background(), en.Payload)
	require.NoError(e.t, err)
	require.True(e.t, bytes.Equal(r.Value, p.Value), "value of %s", id)
	require.Equal(e.t, r.Value == nil, p.Value == nil, "nil value kept apart from empty")
	require.Len(e.t, p.Headers, len(r.Headers))
	for i, h := range r.Headers {
		require.Equal(e.t, h.Key, p.Headers[i].Key)
		require.Equal(e.t, h.Value, p.Headers[i].Value)
	}
	return en
}

// A Kafka Connect DLQ, as a sink with context headers writes it, plus what
// the same connector wrote while context headers were off, plus hostile
// records: imported in bounded batches, every record once, payloads byte
// for byte; a second import adds nothing.
func TestImportConnectTopic(t *testing.T) {
	e := newEnv(t, kfake.SeedTopics(1, "connect-dlq"))
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, dlqtest.Connect("connect-dlq", orders(int64(100+i)), dlqtest.JSONConverterFailure("s3-sink"), true))
	}
	for i := range 5 { // context headers off
		recs = append(recs, dlqtest.Connect("connect-dlq", orders(int64(200+i)), dlqtest.JSONConverterFailure("s3-sink"), false))
	}
	// The connector restarted over offset 100 and dead-lettered it again.
	recs = append(recs, dlqtest.Connect("connect-dlq", orders(100), dlqtest.JSONConverterFailure("s3-sink"), true))
	// Hostile: empty value, nil value, a 2 MiB value, non-UTF-8 headers.
	empty := dlqtest.Connect("connect-dlq", orders(300), dlqtest.JSONConverterFailure("s3-sink"), true)
	empty.Value = []byte{}
	tomb := dlqtest.Connect("connect-dlq", orders(301), dlqtest.JSONConverterFailure("s3-sink"), true)
	tomb.Value = nil
	big := dlqtest.Connect("connect-dlq", orders(302), dlqtest.JSONConverterFailure("s3-sink"), true)
	big.Value = bytes.Repeat([]byte("z"), 2<<20)
	odd := dlqtest.Connect("connect-dlq", orders(303), dlqtest.JSONConverterFailure("s\xffink"), true)
	odd.Headers = append(odd.Headers, kgo.RecordHeader{Key: "\xfe", Value: []byte("\x00\xff")})
	huge := dlqtest.Connect("connect-dlq", orders(304), dlqtest.JSONConverterFailure("s3-sink"), true)
	huge.Headers = append(huge.Headers, kgo.RecordHeader{Key: "__connect.errors.exception.message", Value: bytes.Repeat([]byte("\xff"), 512<<10)})
	recs = append(recs, empty, tomb, big, odd, huge)
	e.produce(recs...)

	var progress []dlqimport.Result
	res, err := e.importTopic("connect-dlq", dlqimport.FormatConnect, dlqimport.ImportOptions{
		BatchSize: 7, MaxBatchBytes: 1 << 20, Progress: func(r dlqimport.Result) { progress = append(progress, r) },
	})
	require.NoError(t, err)
	require.Equal(t, int64(len(recs)), res.Read)
	require.Equal(t, int64(len(recs)-1), res.Imported, "the record dead-lettered twice is stored once")
	require.Equal(t, int64(1), res.Skipped)
	require.Equal(t, int64(5), res.MissingHeaders)
	require.Equal(t, map[record.ErrorType]int64{record.DecodeError: 45, record.SchemaViolation: 5}, res.ByErrorType)
	require.Equal(t, 1, res.Partitions)
	require.Greater(t, len(progress), 6, "written in bounded batches")

	rows := e.rows()
	require.Len(t, rows, len(recs)-1)
	for i, r := range recs[:40] {
		en := e.requireStored(record.ID("orders", 2, int64(100+i)), r)
		require.Equal(t, "orders", en.SourceTopic)
		require.Equal(t, int64(100+i), en.SourceOffset)
		require.Equal(t, record.DecodeError, en.ErrorType)
	}
	for i, r := range recs[40:45] {
		en := e.requireStored(record.ID("connect-dlq", 0, int64(40+i)), r)
		require.Equal(t, dlqimport.KeywordMissingHeaders, en.Errors[0].Keyword)
	}
	for _, r := range []*kgo.Record{empty, tomb, big, odd, huge} {
		off, _ := strconv.ParseInt(string(mustHeader(t, r, "__connect.errors.offset")), 10, 64)
		en := e.requireStored(record.ID("orders", 2, off), r)
		require.LessOrEqual(t, len(en.Errors[0].Message), 4096, "a 512 KiB header makes a bounded message")
	}

	again, err := e.importTopic("connect-dlq", dlqimport.FormatConnect, dlqimport.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(0), again.Imported)
	require.Equal(t, int64(len(recs)), again.Skipped)
	require.Equal(t, rows, e.rows(), "a second import changes nothing")
}

func mustHeader(t *testing.T, r *kgo.Record, key string) []byte {
	t.Helper()
	v, ok := headerValue(r, key)
	require.True(t, ok, key)
	return v
}

// A DlqAction topic over several partitions, read to the end it had when
// the import started; records of aborted transactions are not imported, and
// a partition ending in a transaction marker is seen to end.
func TestImportConfluentTopicWithTransactions(t *testing.T) {
	e := newEnv(t, kfake.SeedTopics(3, "orders-dlq"))
	var recs []*kgo.Record
	for i := range 30 {
		r := dlqtest.Confluent("orders-dlq", []byte(fmt.Sprint("k", i)), []byte(fmt.Sprint("v", i)), nil, dlqtest.RuleContext{
			Rule: "amountPositive", Mode: "WRITE", Subject: "orders-value", Topic: "orders", Exception: dlqtest.ConditionFailed("message.amount > 0"),
		})
		r.Partition = int32(i % 3)
		recs = append(recs, r)
	}
	e.produce(recs...)

	txn, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.TransactionalID("t"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer txn.Close()
	ctx := context.Background()
	for _, commit := range []bool{false, true} {
		require.NoError(t, txn.BeginTransaction())
		r := dlqtest.Confluent("orders-dlq", nil, []byte("txn-"+strconv.FormatBool(commit)), nil, dlqtest.RuleContext{Rule: "r", Mode: "READ", Subject: "s", Topic: "orders"})
		r.Partition = 1
		require.NoError(t, txn.ProduceSync(ctx, r).FirstErr())
		require.NoError(t, txn.EndTransaction(ctx, kgo.TransactionEndTry(commit)))
	}

	res, err := e.importTopic("orders-dlq", dlqimport.FormatConfluent, dlqimport.ImportOptions{BatchSize: 4})
	require.NoError(t, err)
	require.Equal(t, 3, res.Partitions)
	require.Equal(t, int64(31), res.Imported, "30 plus the committed transaction's record")
	require.Equal(t, map[record.ErrorType]int64{record.RuleViolation: 31}, res.ByErrorType)
	for _, en := range e.rows() {
		require.Equal(t, "orders", en.SourceTopic)
		require.Equal(t, int32(-1), en.SourcePartition)
		require.NotEqual(t, "txn-false", string(en.Key), "aborted records are not imported")
	}
	rows := e.rows()
	for p := range int32(3) {
		for o := range int64(10) {
			require.Contains(t, rows, record.ID("orders-dlq", p, o), "keyed by its dead-letter coordinates")
		}
	}
	committed, err := e.meta.Get(context.Background(), record.ID("orders-dlq", 1, 12))
	require.NoError(t, err)
	p, err := e.payloads.Read(context.Background(), committed.Payload)
	require.NoError(t, err)
	require.Equal(t, "txn-true", string(p.Value), "offset 10 is the aborted record, 11 its marker")
}

func TestImportEmptyAndMissingTopics(t *testing.T) {
	e := newEnv(t, kfake.SeedTopics(2, "empty-dlq"))
	res, err := e.importTopic("empty-dlq", dlqimport.FormatDQ, dlqimport.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, dlqimport.Result{Partitions: 2, ByErrorType: map[record.ErrorType]int64{}}, res)

	_, err = e.importTopic("no-such-topic", dlqimport.FormatDQ, dlqimport.ImportOptions{})
	require.ErrorIs(t, err, dlqimport.ErrNoTopic)
	require.Empty(t, e.rows())
}

// An import whose context ends stops with an error; what it wrote stays,
// and importing again completes it without duplicates.
func TestImportInterruptedThenResumed(t *testing.T) {
	e := newEnv(t, kfake.SeedTopics(1, "connect-dlq"))
	var recs []*kgo.Record
	for i := range 50 {
		recs = append(recs, dlqtest.Connect("connect-dlq", orders(int64(i)), dlqtest.JSONConverterFailure("c"), true))
	}
	e.produce(recs...)
	in, err := pipeline.NewIngester(pipeline.IngestOptions{Metadata: e.meta, Payloads: e.payloads})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := dlqimport.Import(ctx, dlqimport.ImportOptions{
		KafkaOpts: []kgo.Opt{kgo.SeedBrokers(e.addr)}, Topic: "connect-dlq", Format: dlqimport.FormatConnect,
		Ingester: in, Metadata: e.meta, BatchSize: 10,
		Progress: func(r dlqimport.Result) {
			if r.Imported >= 20 {
				cancel()
			}
		},
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, res.Imported, int64(50))
	require.Len(t, e.rows(), int(res.Imported))

	res2, err := e.importTopic("connect-dlq", dlqimport.FormatConnect, dlqimport.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(50)-res.Imported, res2.Imported)
	require.Len(t, e.rows(), 50)
}

// The follower (serve's topics.imports) imports records as they arrive,
// commits after writing, and after a restart neither misses nor
// duplicates any.
func TestFollowerImportsContinuously(t *testing.T) {
	e := newEnv(t, kfake.SeedTopics(1, "connect-dlq"), kfake.SeedTopics(2, "orders-dlq"))
	var reg *prometheus.Registry
	follow := func() (stop func()) {
		reg = prometheus.NewRegistry()
		cl, err := kafka.NewGroupClient(kafka.GroupOptions{Brokers: []string{e.addr}, GroupID: "dq-dlq-import", Topics: []string{"connect-dlq", "orders-dlq"}})
		require.NoError(t, err)
		f, err := dlqimport.NewFollower(dlqimport.FollowerOptions{
			Client: cl, Metadata: e.meta, Payloads: e.payloads, Registerer: reg,
			Follows: []dlqimport.Follow{
				{Topic: "connect-dlq", Format: dlqimport.FormatConnect, SourceTopic: "orders"},
				{Topic: "orders-dlq", Format: dlqimport.FormatConfluent},
			},
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()
		return func() {
			cancel()
			require.NoError(t, <-done)
			cl.Close()
		}
	}
	waitRows := func(n int) {
		t.Helper()
		testwait.For(t, 30*time.Second, fmt.Sprintf("%d rows", n), func() error {
			if got := len(e.rows()); got != n {
				return fmt.Errorf("%d rows", got)
			}
			return nil
		})
	}
	stop := follow()
	e.produce(
		dlqtest.Connect("connect-dlq", orders(1), dlqtest.JSONConverterFailure("c"), true),
		dlqtest.Connect("connect-dlq", orders(2), dlqtest.JSONConverterFailure("c"), false),
		dlqtest.Confluent("orders-dlq", nil, []byte("v"), nil, dlqtest.RuleContext{Rule: "r", Mode: "WRITE", Subject: "s", Topic: "orders"}),
	)
	waitRows(3)
	testwait.For(t, 10*time.Second, "2 records imported from connect-dlq", func() error {
		if n := imported(t, reg, "connect-dlq", "connect"); n != 2 {
			return fmt.Errorf("%v imported", n)
		}
		return nil
	})
	require.Equal(t, 1.0, imported(t, reg, "orders-dlq", "confluent"))
	stop()

	// Produced while no follower runs: the next one picks them up.
	e.produce(dlqtest.Connect("connect-dlq", orders(3), dlqtest.JSONConverterFailure("c"), true))
	stop = follow()
	waitRows(4)
	stop()
	rows := e.rows()
	noContext := rows[record.ID("connect-dlq", 0, 1)]
	require.Equal(t, "orders", noContext.SourceTopic, "source_topic names the topic of records without context")
	require.Equal(t, dlqimport.KeywordMissingHeaders, noContext.Errors[0].Keyword)
	require.Contains(t, rows, record.ID("orders", 2, 3))
}

// imported reads dlq_import_records_total{topic, from} from reg.
func imported(t *testing.T, reg *prometheus.Registry, topic, from string) float64 {
	t.Helper()
	n, err := testutil.GatherAndCount(reg, "dlq_import_records_total")
	require.NoError(t, err)
	require.Equal(t, 2, n, "a series per followed topic from the start")
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if mf.GetName() == "dlq_import_records_total" && labels["topic"] == topic && labels["from"] == from {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no dlq_import_records_total{topic=%q, from=%q}", topic, from)
	return 0
}
