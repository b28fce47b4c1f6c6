package pipeline_test

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/circuit"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/retry"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const userEventSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "user_id": {"type": "string", "pattern": "^USER[0-9]{6}$"},
    "event_type": {"type": "string", "enum": ["view", "click", "purchase"]},
    "timestamp": {"type": "string", "format": "date-time"}
  },
  "required": ["user_id", "event_type", "timestamp"]
}`

const (
	rawTopic   = "raw-events"
	cleanTopic = "validated-events"
	dlqTopic   = "quarantine-dlq"
)

// env is a broker, real stores and a pipeline wired as the app wires them.
type env struct {
	t        *testing.T
	cluster  *kfake.Cluster
	addr     string
	meta     quarantine.MetadataStore
	payloads quarantine.PayloadStore
	engine   *validate.Engine
	// batchSize is the pipelines' batch size; 0 means 50.
	batchSize int
	// onCommit is the pipelines' OnCommit hook, nil for none.
	onCommit func([]*kgo.Record)
	// maxBatchHold is the pipelines' MaxBatchHold; 0 is the default.
	maxBatchHold time.Duration
	// shadow, observe and observedRows are the pipelines' Shadow,
	// Observe and ObservedRows; zero for none.
	shadow       pipeline.ShadowRecorder
	observe      map[string]bool
	observedRows map[string]bool
}

func newEnv(t *testing.T, opts ...kfake.Opt) *env {
	t.Helper()
	return newSizedEnv(t, 1024, opts...)
}

// newSizedEnv is newEnv with the engine's limits.max_bytes at maxBytes.
func newSizedEnv(t *testing.T, maxBytes int, opts ...kfake.Opt) *env {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, rawTopic, cleanTopic, dlqTopic)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })
	v, err := formats.Compile(schema.FormatJSON, "user_event", 1, []byte(userEventSchema), formats.Options{})
	require.NoError(t, err)
	res, err := schema.NewStatic(map[string]string{rawTopic: "user_event"}, []*schema.Version{v})
	require.NoError(t, err)
	engine, err := validate.New(validate.Options{Resolver: res, MaxBytes: maxBytes})
	require.NoError(t, err)
	return &env{t: t, cluster: c, addr: c.ListenAddrs()[0], meta: meta, payloads: payloads, engine: engine}
}

// run starts a pipeline in group and returns a stop function that stops it
// cleanly and returns Run's error.
func (e *env) run(group string, metrics *pipeline.Metrics, payloads quarantine.PayloadStore) (stop func() error) {
	return e.runWith(group, metrics, payloads, nil)
}

// runWith starts a pipeline; withCircuit, when set, builds its circuit
// breaker from the pipeline's own client (the pauser).
func (e *env) runWith(group string, metrics *pipeline.Metrics, payloads quarantine.PayloadStore,
	withCircuit func(*kgo.Client) pipeline.CircuitRecorder,
) (stop func() error) {
	e.t.Helper()
	cl, err := kafka.NewGroupClient(kafka.GroupOptions{Brokers: []string{e.addr}, GroupID: group, Topics: []string{rawTopic}})
	require.NoError(e.t, err)
	var breaker pipeline.CircuitRecorder
	if withCircuit != nil {
		breaker = withCircuit(cl)
	}
	if payloads == nil {
		payloads = e.payloads
	}
	p, err := pipeline.New(pipeline.Options{
		Client: cl, Engine: e.engine, Metadata: e.meta, Payloads: payloads,
		CleanTopic: cleanTopic, DLQTopic: dlqTopic, Metrics: metrics, BatchSize: cmp.Or(e.batchSize, 50),
		RetryBackoffMin: time.Millisecond, RetryBackoffMax: 5 * time.Millisecond,
		Circuit: breaker, OnCommit: e.onCommit, MaxBatchHold: e.maxBatchHold,
		Shadow: e.shadow, Observe: e.observe, ObservedRows: e.observedRows,
	})
	require.NoError(e.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error {
		cancel()
		err := <-done
		cl.Close()
		return err
	}
}

func (e *env) produce(recs ...*kgo.Record) {
	e.t.Helper()
	// Batches up to the broker's own limit (kfake's default
	// message.max.bytes, 1048588), above franz-go's default cap, as a
	// producer of another client library may send.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.DefaultProduceTopic(rawTopic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(1048588-100))
	require.NoError(e.t, err)
	defer cl.Close()
	require.NoError(e.t, cl.ProduceSync(context.Background(), recs...).FirstErr())
}

// consume reads exactly n records from topic, failing after a timeout, and
// checks no more arrive shortly after.
func (e *env) consume(topic string, n int) []*kgo.Record {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(e.t, err)
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(out) < n {
		f := cl.PollFetches(ctx)
		require.NoError(e.t, ctx.Err(), "got %d of %d records from %s", len(out), n, topic)
		out = append(out, f.Records()...)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	out = append(out, cl.PollFetches(short).Records()...)
	require.Len(e.t, out, n, "records in %s", topic)
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return "<missing>"
}

func valid(i int) string {
	return fmt.Sprintf(`{"user_id":"USER%06d","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`, i)
}

func TestPipelineRoutesAndQuarantines(t *testing.T) {
	e := newEnv(t)
	invalid := []struct {
		value     string
		wantType  record.ErrorType
		wantField string
	}{
		{`{"event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`, record.MissingField, "/user_id"},
		{`{"user_id":123,"event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`, record.TypeMismatch, "/user_id"},
		{`{"user_id":"USER1","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`, record.PatternMismatch, "/user_id"},
		{`{"user_id":"USER000001","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}`, record.EnumViolation, "/event_type"},
		{`{"user_id":"USER000001","event_type":"view","timestamp":"yesterday"}`, record.FormatViolation, "/timestamp"},
		{`{"user_id":`, record.ParseError, "/user_id"},
	}
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{
			Partition: int32(i % 3), Key: []byte("k" + strconv.Itoa(i)), Value: []byte(valid(i)),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t" + strconv.Itoa(i))}},
		})
	}
	for i, bad := range invalid {
		recs = append(recs, &kgo.Record{
			Partition: int32(i % 3), Key: []byte("bad" + strconv.Itoa(i)), Value: []byte(bad.value),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("b" + strconv.Itoa(i))}},
		})
	}
	// A tombstone is forwarded unchanged.
	recs = append(recs, &kgo.Record{Partition: 1, Key: []byte("gone"), Value: nil})
	e.produce(recs...)

	reg := prometheus.NewRegistry()
	m := pipeline.NewMetrics(reg)
	stop := e.run("g1", m, nil)
	clean := e.consume(cleanTopic, 31)
	dlq := e.consume(dlqTopic, len(invalid))
	require.NoError(t, stop())

	// Clean: key, value, headers kept, same partition, order per partition kept.
	lastOffset := map[int32]int{}
	tombstones := 0
	for _, r := range clean {
		if r.Value == nil {
			tombstones++
			require.Equal(t, "gone", string(r.Key))
			require.Equal(t, int32(1), r.Partition)
			continue
		}
		var ev struct {
			UserID string `json:"user_id"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &ev))
		i, err := strconv.Atoi(ev.UserID[4:])
		require.NoError(t, err)
		require.Equal(t, "k"+strconv.Itoa(i), string(r.Key))
		require.Equal(t, "t"+strconv.Itoa(i), header(r, "trace"))
		require.Equal(t, int32(i%3), r.Partition, "source partition kept")
		if prev, ok := lastOffset[r.Partition]; ok {
			require.Greater(t, i, prev, "order within partition %d", r.Partition)
		}
		lastOffset[r.Partition] = i
	}
	require.Equal(t, 1, tombstones)

	// DLQ: original record plus dq.* headers; store rows and payloads.
	byKey := map[string]*kgo.Record{}
	for _, r := range dlq {
		byKey[string(r.Key)] = r
	}
	for i, bad := range invalid {
		r := byKey["bad"+strconv.Itoa(i)]
		require.NotNil(t, r, "DLQ record %d", i)
		require.Equal(t, bad.value, string(r.Value))
		require.Equal(t, "b"+strconv.Itoa(i), header(r, "trace"), "original headers kept")
		require.Equal(t, string(bad.wantType), header(r, pipeline.HeaderErrorType))
		require.Equal(t, bad.wantField, header(r, pipeline.HeaderErrorField))
		require.Equal(t, "user_event", header(r, pipeline.HeaderSchemaSubject))
		require.Equal(t, "1", header(r, pipeline.HeaderSchemaVersion))
		require.Equal(t, rawTopic, header(r, pipeline.HeaderSourceTopic))
		require.Equal(t, strconv.Itoa(i%3), header(r, pipeline.HeaderSourcePartition))
		_, err := time.Parse(time.RFC3339Nano, header(r, pipeline.HeaderQuarantinedAt))
		require.NoError(t, err)
		var errs []record.Violation
		require.NoError(t, json.Unmarshal([]byte(header(r, pipeline.HeaderErrors)), &errs))
		require.NotEmpty(t, errs)
		require.Equal(t, bad.wantType, errs[0].Type)

		off, err := strconv.ParseInt(header(r, pipeline.HeaderSourceOffset), 10, 64)
		require.NoError(t, err)
		id := record.ID(rawTopic, int32(i%3), off)
		require.Equal(t, id, header(r, pipeline.HeaderQuarantineID))
		entry, err := e.meta.Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, bad.wantType, entry.ErrorType)
		require.Equal(t, bad.wantField, entry.ErrorField)
		require.Equal(t, "bad"+strconv.Itoa(i), string(entry.Key))
		require.Equal(t, len(bad.value), entry.PayloadSize)
		require.Equal(t, quarantine.StatusQuarantined, entry.Status)
		p, err := e.payloads.Read(context.Background(), entry.Payload)
		require.NoError(t, err)
		require.Equal(t, bad.value, string(p.Value))
		require.Equal(t, []record.Header{{Key: "trace", Value: []byte("b" + strconv.Itoa(i))}}, p.Headers)
	}

	// Metrics: exact counts.
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP records_processed_total Records consumed and validated, by input topic and schema subject.
# TYPE records_processed_total counter
records_processed_total{subject="user_event",topic="raw-events"} 37
# HELP records_valid_total Records that passed validation and were forwarded to the clean topic.
# TYPE records_valid_total counter
records_valid_total{subject="user_event",topic="raw-events"} 31
`), "records_processed_total", "records_valid_total"))
	// Every kind of durable write was timed at least once.
	families, err := reg.Gather()
	require.NoError(t, err)
	timed := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "store_write_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			timed[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
		}
	}
	for _, store := range []string{"payloads", "metadata", "kafka_produce", "kafka_commit"} {
		require.Positive(t, timed[store], store)
	}
	tot := totals(t, reg)
	require.Equal(t, int64(37), tot.Processed)
	require.Equal(t, int64(31), tot.Valid)
	require.Equal(t, int64(6), tot.Invalid)
	for _, bad := range invalid {
		require.Equal(t, int64(1), tot.InvalidByErrorType[bad.wantType], bad.wantType)
	}
}

// A redelivered batch (here: a second group reading the same input, as after
// a crash before commit) writes no second row and no second segment.
func TestPipelineRedeliveryIsIdempotent(t *testing.T) {
	e := newEnv(t)
	var recs []*kgo.Record
	for i := range 20 {
		v := valid(i)
		if i%4 == 0 {
			v = `{"user_id":"nope"}`
		}
		recs = append(recs, &kgo.Record{Partition: int32(i % 3), Value: []byte(v)})
	}
	e.produce(recs...)
	stop := e.run("first", nil, nil)
	e.consume(dlqTopic, 5)
	require.NoError(t, stop())
	first, err := e.meta.List(context.Background(), quarantine.Filter{Limit: 100})
	require.NoError(t, err)
	require.Len(t, first.Entries, 5)

	stop = e.run("second", nil, nil)
	e.consume(dlqTopic, 10) // at-least-once: the DLQ topic sees the replay
	require.NoError(t, stop())
	second, err := e.meta.List(context.Background(), quarantine.Filter{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, first.Entries, second.Entries, "replay changed no row")
}

// failingPayloads wraps the real payload store and fails its first writes,
// as an unreachable disk or bucket would.
type failingPayloads struct {
	quarantine.PayloadStore
	failures atomic.Int32
}

func (f *failingPayloads) WriteSegment(ctx context.Context, name string, p []quarantine.Payload) ([]quarantine.PayloadRef, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, fmt.Errorf("injected: payload store: %w", retry.ErrUnavailable)
	}
	return f.PayloadStore.WriteSegment(ctx, name, p)
}

// An outage is retried, never mistaken for bad data: the record is
// quarantined for its own content, once, and the valid ones still flow.
func TestPipelineRetriesStoreOutage(t *testing.T) {
	e := newEnv(t)
	fp := &failingPayloads{PayloadStore: e.payloads}
	fp.failures.Store(3)
	e.produce(
		&kgo.Record{Value: []byte(valid(1))},
		&kgo.Record{Value: []byte(`{"user_id":"USER000002","event_type":"view"}`)},
		&kgo.Record{Value: []byte(valid(3))},
	)
	reg := prometheus.NewRegistry()
	m := pipeline.NewMetrics(reg)
	stop := e.run("g", m, fp)
	e.consume(cleanTopic, 2)
	dlq := e.consume(dlqTopic, 1)
	require.NoError(t, stop())
	require.Equal(t, string(record.MissingField), header(dlq[0], pipeline.HeaderErrorType))
	require.Equal(t, "/timestamp", header(dlq[0], pipeline.HeaderErrorField))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP store_write_errors_total Failed writes, each retried, by target: payloads, metadata, kafka_produce, kafka_commit, kafka_transaction.
# TYPE store_write_errors_total counter
store_write_errors_total{store="payloads"} 3
`), "store_write_errors_total"))
	require.Zero(t, testutil.CollectAndCount(reg, "pipeline_permanent_errors_total"), "an outage is not a permanent error")
	page, err := e.meta.List(context.Background(), quarantine.Filter{})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	require.Equal(t, int64(1), totals(t, reg).Invalid)
}

// Hostile payloads are each quarantined with their own type, and valid
// traffic behind them still flows.
func TestPipelineHostileInput(t *testing.T) {
	e := newEnv(t)
	deep := []byte{}
	for range 200 {
		deep = append(deep, '[')
	}
	cases := []struct {
		name  string
		value []byte
		want  record.ErrorType
	}{
		{"huge", []byte(`{"user_id":"` + string(make([]byte, 2000)) + `"}`), record.PayloadTooLarge},
		{"deeply nested", deep, record.ParseError},
		{"invalid UTF-8", []byte("{\"user_id\":\"USER\xff\xfe\",\"event_type\":\"view\",\"timestamp\":\"2026-01-10T19:50:00Z\"}"), record.ParseError},
		{"binary", []byte{0x00, 0x01, 0x02, 0xff, 0x10}, record.ParseError},
		{"empty", []byte{}, record.ParseError},
		{"duplicate key", []byte(`{"user_id":"USER000001","user_id":"x","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`), record.ParseError},
	}
	var recs []*kgo.Record
	for i, c := range cases {
		recs = append(recs, &kgo.Record{Key: []byte(c.name), Value: c.value})
		recs = append(recs, &kgo.Record{Key: []byte("ok"), Value: []byte(valid(i))})
	}
	e.produce(recs...)
	stop := e.run("g", nil, nil)
	clean := e.consume(cleanTopic, len(cases))
	dlq := e.consume(dlqTopic, len(cases))
	require.NoError(t, stop())
	for _, r := range clean {
		require.Equal(t, "ok", string(r.Key))
	}
	got := map[string]string{}
	for _, r := range dlq {
		got[string(r.Key)] = header(r, pipeline.HeaderErrorType)
		require.NotEmpty(t, header(r, pipeline.HeaderErrorMessage))
	}
	for _, c := range cases {
		require.Equal(t, string(c.want), got[c.name], c.name)
	}
}

// A DLQ record that the dq.* headers push over the broker's size limit is
// sent without its value (which the payload store holds) instead of being
// retried forever, and the pipeline keeps flowing.
func TestPipelineOversizedDLQRecord(t *testing.T) {
	e := newEnv(t, kfake.BrokerConfigs(map[string]string{"message.max.bytes": "1500"}))
	rnd := rand.New(rand.NewPCG(1, 2))
	pad := make([]byte, 600)
	for i := range pad {
		pad[i] = byte(rnd.Uint32())
	}
	// Incompressible, so the producer's compression cannot make it fit.
	big := `{"user_id":"USER000001","event_type":"view","timestamp":"2026-01-10T19:50:00Z","pad":"` + hex.EncodeToString(pad) + `"}`
	e.produce(&kgo.Record{Key: []byte("big"), Value: []byte(big)}, &kgo.Record{Key: []byte("ok"), Value: []byte(valid(1))})
	stop := e.run("g", nil, nil)
	dlq := e.consume(dlqTopic, 1)
	e.consume(cleanTopic, 1)
	require.NoError(t, stop())
	r := dlq[0]
	require.Equal(t, "big", string(r.Key))
	require.Nil(t, r.Value, "value of %d bytes still in the DLQ record", len(r.Value))
	require.Equal(t, string(record.PayloadTooLarge), header(r, pipeline.HeaderErrorType))
	require.Contains(t, header(r, pipeline.HeaderPayloadOmitted), "the payload store keeps all of it")
	entry, err := e.meta.Get(context.Background(), header(r, pipeline.HeaderQuarantineID))
	require.NoError(t, err)
	p, err := e.payloads.Read(context.Background(), entry.Payload)
	require.NoError(t, err)
	require.Equal(t, big, string(p.Value), "the payload store keeps the full value")
}

// Violations quote the payload; headers cap what they carry.
func TestPipelineCapsErrorHeaders(t *testing.T) {
	e := newEnv(t)
	longKey := strings.Repeat("é", 600) // 1200 bytes
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 40 {
		fmt.Fprintf(&b, `"%s%d":1,`, longKey, i)
	}
	b.WriteString(`"user_id":"USER000001","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`)
	strict := `{"type":"object","additionalProperties":false,"properties":{"user_id":{},"event_type":{},"timestamp":{}}}`
	v, err := formats.Compile(schema.FormatJSON, "strict", 1, []byte(strict), formats.Options{})
	require.NoError(t, err)
	res, err := schema.NewStatic(map[string]string{rawTopic: "strict"}, []*schema.Version{v})
	require.NoError(t, err)
	e.engine, err = validate.New(validate.Options{Resolver: res, MaxBytes: 1 << 20})
	require.NoError(t, err)
	e.produce(&kgo.Record{Value: []byte(b.String())})
	stop := e.run("g", nil, nil)
	r := e.consume(dlqTopic, 1)[0]
	require.NoError(t, stop())
	require.Equal(t, string(record.UnknownField), header(r, pipeline.HeaderErrorType))
	field := header(r, pipeline.HeaderErrorField)
	require.LessOrEqual(t, len(field), 512)
	require.True(t, strings.HasSuffix(field, "…"), field)
	require.True(t, utf8.ValidString(field))
	var errs []record.Violation
	require.NoError(t, json.Unmarshal([]byte(header(r, pipeline.HeaderErrors)), &errs))
	require.Len(t, errs, 32)
	require.Equal(t, "40", header(r, pipeline.HeaderErrorsTotal))
	entry, err := e.meta.Get(context.Background(), header(r, pipeline.HeaderQuarantineID))
	require.NoError(t, err)
	require.Len(t, entry.Errors, 40, "the metadata row keeps every violation in full")
	require.Greater(t, len(entry.ErrorField), 1200)
}

// A flood of bad records trips the breaker and pauses the input: the rest of
// the flood and records produced afterwards wait in Kafka (nothing is lost
// or skipped) until an operator resumes, and then flow.
func TestPipelineCircuitBreakerPausesAndResumes(t *testing.T) {
	e := newEnv(t)
	var set *circuit.Set
	stop := e.runWith("g", nil, nil, func(cl *kgo.Client) pipeline.CircuitRecorder {
		var err error
		set, err = circuit.NewSet(circuit.SetOptions{
			Breaker: circuit.Options{Threshold: 0.5, Window: time.Minute, MinRecords: 50},
			Topics:  []string{rawTopic}, Pauser: cl,
		})
		require.NoError(t, err)
		return set
	})
	defer func() { require.NoError(t, stop()) }()

	var flood []*kgo.Record
	for range 100 {
		flood = append(flood, &kgo.Record{Value: []byte(`{"user_id":"nope"}`)})
	}
	e.produce(flood...)
	testwait.For(t, 20*time.Second, "the breaker to open", func() error {
		if s := set.Snapshots()[rawTopic].State; s != circuit.Open {
			return fmt.Errorf("it is %v", s)
		}
		return nil
	})

	// Paused: the valid records produced now wait in the input topic.
	var good []*kgo.Record
	for i := range 10 {
		good = append(good, &kgo.Record{Value: []byte(valid(i))})
	}
	e.produce(good...)
	e.consume(cleanTopic, 0)

	_, err := set.Resume(rawTopic)
	require.NoError(t, err)
	e.consume(cleanTopic, 10)
	e.consume(dlqTopic, 100) // the rest of the flood waited too, and is quarantined now
	require.Equal(t, circuit.Closed, set.Snapshots()[rawTopic].State)
}

// A business rule quarantines a record the schema accepts, with the rule's
// name as keyword, and counts it per subject and rule.
func TestPipelineBusinessRules(t *testing.T) {
	e := newEnv(t)
	v, err := formats.Compile(schema.FormatJSON, "user_event", 1, []byte(userEventSchema), formats.Options{})
	require.NoError(t, err)
	v.Rules, err = rules.Compile([]rules.Spec{{
		Name: "future_timestamp_check", Expr: "timestamp(message.timestamp) <= now",
		Message: "Timestamp cannot be in future", Field: "/timestamp",
	}}, rules.Options{})
	require.NoError(t, err)
	res, err := schema.NewStatic(map[string]string{rawTopic: "user_event"}, []*schema.Version{v})
	require.NoError(t, err)
	e.engine, err = validate.New(validate.Options{Resolver: res})
	require.NoError(t, err)

	e.produce(
		&kgo.Record{Key: []byte("future"), Value: []byte(`{"user_id":"USER000001","event_type":"view","timestamp":"2999-01-01T00:00:00Z"}`)},
		&kgo.Record{Key: []byte("past"), Value: []byte(valid(2))},
		&kgo.Record{Key: []byte("schema-invalid"), Value: []byte(`{"user_id":"x","event_type":"view","timestamp":"2999-01-01T00:00:00Z"}`)},
	)
	reg := prometheus.NewRegistry()
	stop := e.run("g", pipeline.NewMetrics(reg), nil)
	clean := e.consume(cleanTopic, 1)
	dlq := e.consume(dlqTopic, 2)
	require.NoError(t, stop())
	require.Equal(t, "past", string(clean[0].Key))
	byKey := map[string]*kgo.Record{}
	for _, r := range dlq {
		byKey[string(r.Key)] = r
	}
	require.Equal(t, string(record.RuleViolation), header(byKey["future"], pipeline.HeaderErrorType))
	require.Equal(t, "/timestamp", header(byKey["future"], pipeline.HeaderErrorField))
	require.Equal(t, "Timestamp cannot be in future", header(byKey["future"], pipeline.HeaderErrorMessage))
	require.Equal(t, string(record.PatternMismatch), header(byKey["schema-invalid"], pipeline.HeaderErrorType),
		"rules run only on records the schema accepts")
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP rule_violations_total Business-rule violations, by schema subject and rule name (a record can violate several).
# TYPE rule_violations_total counter
rule_violations_total{rule="future_timestamp_check",subject="user_event"} 1
`), "rule_violations_total"))
}

// TestPipelineParallelValidationKeepsOrder: batches big enough to be
// validated on several goroutines still route every record where it
// belongs, in its partition's order.
func TestPipelineParallelValidationKeepsOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // several validators, whatever the machine
	e := newEnv(t)
	e.batchSize = 3000
	var biggest atomic.Int64
	e.onCommit = func(recs []*kgo.Record) {
		if int64(len(recs)) > biggest.Load() {
			biggest.Store(int64(len(recs)))
		}
	}
	const n = 3000
	recs := make([]*kgo.Record, n)
	for i := range recs {
		v := valid(i)
		if i%7 == 0 {
			v = `{"user_id":"bad-` + strconv.Itoa(i) + `"}`
		}
		recs[i] = &kgo.Record{Partition: int32(i % 3), Key: []byte(strconv.Itoa(i)), Value: []byte(v)}
	}
	e.produce(recs...)
	stop := e.run("parallel", pipeline.NewMetrics(prometheus.NewRegistry()), nil)
	invalid := (n + 6) / 7
	clean := e.consume(cleanTopic, n-invalid)
	dlq := e.consume(dlqTopic, invalid)
	require.NoError(t, stop())
	// A batch of 1024 records or more goes to four validators (at least
	// 256 each): the path under test was taken.
	require.GreaterOrEqual(t, biggest.Load(), int64(1024), "no batch was big enough to be validated in parallel")

	last := map[int32]int{0: -1, 1: -1, 2: -1}
	for _, r := range clean {
		i, err := strconv.Atoi(string(r.Key))
		require.NoError(t, err)
		require.NotZero(t, i%7, "an invalid record reached the clean topic")
		require.Equal(t, int32(i%3), r.Partition, "kept its partition")
		require.Greater(t, i, last[r.Partition], "order within partition %d", r.Partition)
		last[r.Partition] = i
	}
	for _, r := range dlq {
		i, err := strconv.Atoi(string(r.Key))
		require.NoError(t, err)
		require.Zero(t, i%7, "a valid record was quarantined")
	}
}
