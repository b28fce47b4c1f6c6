package pipeline_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// validOfSize is a valid event padded to exactly n bytes.
func validOfSize(t *testing.T, n int) []byte {
	t.Helper()
	const head = `{"user_id":"USER000001","event_type":"view","timestamp":"2026-01-10T19:50:00Z","pad":"`
	require.Greater(t, n, len(head)+2)
	return []byte(head + strings.Repeat("x", n-len(head)-2) + `"}`)
}

// storedPayload reads the payload store's copy of a quarantined record.
func (e *env) storedPayload(id string) (quarantine.Entry, quarantine.Payload) {
	e.t.Helper()
	entry, err := e.meta.Get(context.Background(), id)
	require.NoError(e.t, err)
	p, err := e.payloads.Read(context.Background(), entry.Payload)
	require.NoError(e.t, err)
	return entry, p
}

// A valid record of 1,000,100 bytes (under limits.max_bytes, accepted by
// the input topic) is larger than the producer may send to the clean topic.
// It used to be retried forever, stopping every partition; now it is
// quarantined as PAYLOAD_TOO_LARGE, the DLQ record without its value, and
// the valid record behind it in the same partition is delivered.
func TestPipelineQuarantinesARecordTheCleanTopicRefuses(t *testing.T) {
	e := newSizedEnv(t, 1<<20)
	big := validOfSize(t, 1_000_100)
	e.produce(
		&kgo.Record{Key: []byte("big"), Value: big},
		&kgo.Record{Key: []byte("next"), Value: []byte(valid(2))},
	)
	reg := prometheus.NewRegistry()
	m := pipeline.NewMetrics(reg)
	stop := e.run("g", m, nil)
	clean := e.consume(cleanTopic, 1)
	dlq := e.consume(dlqTopic, 1)
	require.NoError(t, stop())

	require.Equal(t, "next", string(clean[0].Key))
	r := dlq[0]
	require.Equal(t, "big", string(r.Key))
	require.Nil(t, r.Value)
	require.Equal(t, string(record.PayloadTooLarge), header(r, pipeline.HeaderErrorType))
	require.Contains(t, header(r, pipeline.HeaderErrorMessage), "larger than the clean topic validated-events accepts")
	require.Contains(t, header(r, pipeline.HeaderPayloadOmitted), "value (1000100 bytes)")
	entry, p := e.storedPayload(header(r, pipeline.HeaderQuarantineID))
	require.Equal(t, record.PayloadTooLarge, entry.ErrorType)
	require.Equal(t, "user_event", entry.Subject, "the row names the schema the record passed")
	require.True(t, bytes.Equal(big, p.Value), "the payload store keeps the whole value")
	require.Equal(t, 1.0, testutil.ToFloat64(counter(t, reg, "records_detoured_total", "clean_refused")))
	tot := totals(t, reg)
	require.Equal(t, int64(1), tot.Valid)
	require.Equal(t, int64(1), tot.InvalidByErrorType[record.PayloadTooLarge], "counted as what happened to it")
}

// A flood of records the clean topic refuses, interleaved with good ones in
// the same batch: each refused one is quarantined, once, and every good one
// is delivered, in order.
func TestPipelineQuarantinesAFloodTheCleanTopicRefuses(t *testing.T) {
	e := newSizedEnv(t, 1<<20)
	const n = 40
	big := validOfSize(t, 1_000_100)
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs,
			&kgo.Record{Key: []byte(fmt.Sprintf("big-%d", i)), Value: big, Partition: 0},
			&kgo.Record{Key: []byte(fmt.Sprintf("ok-%d", i)), Value: []byte(valid(i)), Partition: 0})
	}
	e.produce(recs...)
	reg := prometheus.NewRegistry()
	stop := e.run("g", pipeline.NewMetrics(reg), nil)
	clean := e.consume(cleanTopic, n)
	dlq := e.consume(dlqTopic, n)
	require.NoError(t, stop())

	for i, r := range clean {
		require.Equal(t, fmt.Sprintf("ok-%d", i), string(r.Key), "delivered in order")
	}
	seen := map[string]bool{}
	for _, r := range dlq {
		require.Equal(t, string(record.PayloadTooLarge), header(r, pipeline.HeaderErrorType))
		require.False(t, seen[string(r.Key)], "%s quarantined twice", r.Key)
		seen[string(r.Key)] = true
	}
	require.Len(t, seen, n)
	require.Equal(t, float64(n), testutil.ToFloat64(counter(t, reg, "records_detoured_total", "clean_refused")))
}

// An invalid record whose key or one header is too large for the DLQ topic
// leaves on the DLQ without them (dq.payload.omitted says so); the payload
// store and the row keep everything, and the next record flows.
func TestPipelineShrinksDLQRecordsThatDoNotFit(t *testing.T) {
	e := newEnv(t)
	bigKey := bytes.Repeat([]byte("k"), 1_000_000)
	bigHeader := kgo.RecordHeader{Key: "trace", Value: bytes.Repeat([]byte("h"), 1_000_000)}
	bad := []byte(`{"user_id":"nope","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`)
	e.produce(
		&kgo.Record{Key: bigKey, Value: bad},
		&kgo.Record{Key: []byte("ok1"), Value: []byte(valid(1))},
		&kgo.Record{Key: []byte("header"), Value: bad, Headers: []kgo.RecordHeader{{Key: "small", Value: []byte("s")}, bigHeader}},
		&kgo.Record{Key: []byte("ok2"), Value: []byte(valid(2))},
	)
	stop := e.run("g", nil, nil)
	e.consume(cleanTopic, 2)
	dlq := e.consume(dlqTopic, 2)
	require.NoError(t, stop())

	byOmission := map[string]*kgo.Record{}
	for _, r := range dlq {
		require.Equal(t, string(record.PatternMismatch), header(r, pipeline.HeaderErrorType))
		byOmission[header(r, pipeline.HeaderPayloadOmitted)] = r
	}
	var keyless, headerless *kgo.Record
	for note, r := range byOmission {
		switch {
		case strings.Contains(note, "key (1000000 bytes)"):
			keyless = r
		case strings.Contains(note, "2 headers of its own"):
			headerless = r
		}
	}
	require.NotNil(t, keyless, "omission notes: %v", keys(byOmission))
	require.NotNil(t, headerless, "omission notes: %v", keys(byOmission))
	require.Nil(t, keyless.Key)
	require.Nil(t, keyless.Value)
	_, p := e.storedPayload(header(keyless, pipeline.HeaderQuarantineID))
	require.Equal(t, bad, p.Value)
	for _, h := range headerless.Headers {
		require.True(t, strings.HasPrefix(h.Key, "dq."), "header %s of its own left in", h.Key)
	}
	entry, p := e.storedPayload(header(headerless, pipeline.HeaderQuarantineID))
	require.Equal(t, "header", string(entry.Key), "the row keeps the key")
	require.Len(t, p.Headers, 2)
	require.Equal(t, bigHeader.Value, p.Headers[1].Value, "the payload store keeps the big header")
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// A producer's own dq.* headers never reach an output looking like the
// gateway's verdict: they leave under dq.original.*, in place, and the
// gateway's are the only dq.* ones; the payload store keeps what was sent.
func TestPipelineMovesProducerVerdictHeaders(t *testing.T) {
	e := newEnv(t)
	forged := []kgo.RecordHeader{
		{Key: "dq.error.type", Value: []byte("NONE")},
		{Key: "x-trace", Value: []byte("t1")},
		{Key: "dq.quarantine.id", Value: []byte("forged")},
		{Key: "dq.original.error.type", Value: []byte("older")},
	}
	e.produce(
		&kgo.Record{Key: []byte("good"), Value: []byte(valid(1)), Headers: forged},
		&kgo.Record{Key: []byte("bad"), Value: []byte(`{"user_id":"nope"}`), Headers: forged},
	)
	stop := e.run("g", nil, nil)
	clean := e.consume(cleanTopic, 1)
	dlq := e.consume(dlqTopic, 1)
	require.NoError(t, stop())

	require.Equal(t, []kgo.RecordHeader{
		{Key: "dq.original.error.type", Value: []byte("NONE")},
		{Key: "x-trace", Value: []byte("t1")},
		{Key: "dq.original.quarantine.id", Value: []byte("forged")},
		{Key: "dq.original.original.error.type", Value: []byte("older")},
	}, clean[0].Headers)

	r := dlq[0]
	counts := map[string]int{}
	for _, h := range r.Headers {
		counts[h.Key]++
	}
	require.Equal(t, 1, counts[pipeline.HeaderErrorType])
	require.Equal(t, 1, counts[pipeline.HeaderQuarantineID])
	require.Equal(t, string(record.MissingField), header(r, pipeline.HeaderErrorType))
	require.Equal(t, "NONE", header(r, "dq.original.error.type"))
	id := header(r, pipeline.HeaderQuarantineID)
	require.NotEqual(t, "forged", id)
	_, p := e.storedPayload(id)
	require.Equal(t, "dq.error.type", p.Headers[0].Key, "the payload store keeps the headers as sent")
	require.Equal(t, "NONE", string(p.Headers[0].Value))
}

// stuckPayloads fails every write with an error retrying cannot fix, until
// healed.
type stuckPayloads struct {
	quarantine.PayloadStore
	healed atomic.Bool
	fails  atomic.Int64
}

func (s *stuckPayloads) WriteSegment(ctx context.Context, name string, p []quarantine.Payload) ([]quarantine.PayloadRef, error) {
	if !s.healed.Load() {
		s.fails.Add(1)
		return nil, errors.New("injected: permission denied")
	}
	return s.PayloadStore.WriteSegment(ctx, name, p)
}

// releaseEnv is 60 records over 3 partitions, a third of each partition's
// invalid, and a payload store that fails for good until healed.
func releaseEnv(t *testing.T) (e *env, stuck *stuckPayloads, reg *prometheus.Registry, m *pipeline.Metrics) {
	e = newEnv(t)
	e.batchSize = 10
	e.maxBatchHold = 300 * time.Millisecond
	var recs []*kgo.Record
	for i := range releaseN {
		v := valid(i)
		if (i/3)%3 == 0 {
			v = `{"user_id":"nope","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`
		}
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(v), Partition: int32(i % 3)})
	}
	e.produce(recs...)
	reg = prometheus.NewRegistry()
	return e, &stuckPayloads{PayloadStore: e.payloads}, reg, pipeline.NewMetrics(reg)
}

const releaseN, releaseInvalid = 60, 21

// A batch that cannot become durable (a store failing for good) holds the
// group's rebalance block for at most MaxBatchHold, then is released,
// uncommitted, and tried again. What it had already produced is not
// produced again, and once the store heals every record is delivered and
// quarantined exactly once: nothing was skipped.
func TestPipelineReleasesABatchItCannotMakeDurable(t *testing.T) {
	e, stuck, reg, m := releaseEnv(t)
	stop := e.run("g", m, stuck)
	testwait.For(t, 20*time.Second, "the stuck batch to be released, again and again", func() error {
		if n := value(t, reg, "pipeline_batches_released_total"); n < 3 {
			return fmt.Errorf("released %v times", n)
		}
		return nil
	})
	require.GreaterOrEqual(t, testutil.ToFloat64(counter(t, reg, "pipeline_permanent_errors_total", "payloads")), 1.0)
	require.False(t, m.Progress().PendingSince.IsZero(), "records wait uncommitted")

	stuck.healed.Store(true)
	e.consume(cleanTopic, releaseN-releaseInvalid) // exactly: nothing produced twice
	e.consume(dlqTopic, releaseInvalid)
	require.NoError(t, stop())
	page, err := e.meta.List(context.Background(), quarantine.Filter{Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	require.Len(t, page.Entries, releaseInvalid, "each invalid record quarantined once")
	require.True(t, m.Progress().PendingSince.IsZero())
}

// While a member is stuck, the release lets a rebalance through: a healthy
// member joining the group takes partitions and delivers their records
// (it could not before: the stuck member held the rebalance block).
func TestPipelineReleaseLetsAnotherMemberTakeOver(t *testing.T) {
	e, stuck, reg, m := releaseEnv(t)
	stopA := e.run("g", m, stuck)
	testwait.For(t, 20*time.Second, "the stuck batch to be released", func() error {
		if n := value(t, reg, "pipeline_batches_released_total"); n < 1 {
			return errors.New("not released yet")
		}
		return nil
	})
	stopB := e.run("g", nil, nil)
	testwait.For(t, 20*time.Second, "the second member to deliver while the first is stuck", func() error {
		page, err := e.meta.List(context.Background(), quarantine.Filter{})
		if err == nil && len(page.Entries) == 0 {
			err = errors.New("no row yet")
		}
		return err
	})
	stuck.healed.Store(true)
	e.waitCommitted("g", releaseN)
	require.NoError(t, stopB())
	require.NoError(t, stopA())
	// At least once: every record reached its topic (a record the stuck
	// member produced before the partition moved may be there twice).
	for _, c := range []struct {
		topic string
		n     int
	}{{cleanTopic, releaseN - releaseInvalid}, {dlqTopic, releaseInvalid}} {
		seen := map[string]bool{}
		for _, r := range readCommitted(t, e.addr, c.topic) {
			seen[string(r.Key)] = true
		}
		require.Len(t, seen, c.n, c.topic)
	}
}

// waitCommitted waits until group has committed n offsets in all.
func (e *env) waitCommitted(group string, n int64) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	require.NoError(e.t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	testwait.For(e.t, 30*time.Second, fmt.Sprintf("%d offsets committed", n), func() error {
		return committed(adm, group, n)
	})
}

// committed says, when group's committed offsets do not sum to n, what
// they sum to.
func committed(adm *kadm.Client, group string, n int64) error {
	offs, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		return err
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != n {
		return fmt.Errorf("committed offsets sum to %d", sum)
	}
	return nil
}

// totals reads the record counters back from reg, as the API's stats do.
func totals(t *testing.T, reg *prometheus.Registry) live.Totals {
	t.Helper()
	tot, err := live.ReadTotals(reg)
	require.NoError(t, err)
	return tot
}

// value is the value of an unlabelled counter or gauge.
func value(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestProgressStalled(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	const timeout = time.Minute
	cases := []struct {
		name    string
		p       pipeline.Progress
		lagging bool
		want    bool
	}{
		{"idle, nothing to do", pipeline.Progress{LastCommit: now.Add(-time.Hour)}, false, false},
		{"idle with lag it cannot poll", pipeline.Progress{LastCommit: now.Add(-time.Hour)}, true, true},
		{"lag, committing", pipeline.Progress{LastCommit: now.Add(-time.Second)}, true, false},
		{"a batch retried past the timeout", pipeline.Progress{LastCommit: now.Add(-time.Hour), PendingSince: now.Add(-2 * time.Minute)}, false, true},
		{"a batch retried briefly", pipeline.Progress{LastCommit: now.Add(-time.Hour), PendingSince: now.Add(-time.Second)}, false, false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, c.p.Stalled(now, timeout, c.lagging), c.name)
	}
}

// refuseMarked makes the broker answer INVALID_RECORD for every batch
// produced to topic that carries a record keyed marker, and only for that
// batch: the other partitions of the same produce request are appended as
// usual. That is what a broker does with a record its topic's settings
// refuse (a record without a key on a compacted topic, say): it validates
// batch by batch and refuses the whole batch for one record. The returned
// counts are the batches refused and the records they carried.
//
// A ControlKey function answering the request itself would have to answer
// every partition in it, and could not append the good batches; so a
// fault per partition answers only that partition, and its When decodes
// the partition's batch (kfake checks faults after controls, per
// partition, on its own goroutine).
func (e *env) refuseMarked(topic, marker string) (batches, records *atomic.Int64) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	require.NoError(e.t, err)
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(context.Background(), topic)
	require.NoError(e.t, err)
	d, ok := details[topic]
	require.True(e.t, ok && d.Err == nil, "topic %s: %v", topic, d.Err)
	batches, records = new(atomic.Int64), new(atomic.Int64)
	for p := range int32(len(d.Partitions)) {
		e.cluster.Fault(kfake.Fault{
			Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Partitions: []int32{p},
			Err: kerr.InvalidRecord, Count: -1,
			When: func(req kmsg.Request) bool {
				n := markedBatch(req.(*kmsg.ProduceRequest), topic, d.ID, p, []byte(marker))
				if n > 0 {
					batches.Add(1)
					records.Add(int64(n))
				}
				return n > 0
			},
		})
	}
	return batches, records
}

// markedBatch returns the number of records in req's batch for
// topic/partition (the request names the topic, or from Produce v13 its id)
// when one of them is keyed marker, else 0.
func markedBatch(req *kmsg.ProduceRequest, topic string, id [16]byte, partition int32, marker []byte) int {
	for _, t := range req.Topics {
		if t.Topic != topic && t.TopicID != id {
			continue
		}
		for _, p := range t.Partitions {
			if p.Partition != partition {
				continue
			}
			var b kmsg.RecordBatch
			if b.ReadFrom(p.Records) != nil {
				return 0
			}
			recs, err := kgo.DefaultDecompressor().Decompress(b.Records, kgo.CompressionCodecType(b.Attributes&0x7))
			if err != nil {
				return 0
			}
			found := false
			for range b.NumRecords {
				n, w := binary.Varint(recs) // each record is prefixed by its length
				if w <= 0 || n < 0 || n > int64(len(recs)-w) {
					return 0
				}
				var r kmsg.Record
				if r.ReadFrom(recs[:w+int(n)]) != nil {
					return 0
				}
				found = found || bytes.Equal(r.Key, marker)
				recs = recs[w+int(n):]
			}
			if found {
				return int(b.NumRecords)
			}
		}
	}
	return 0
}

// markerInput is the input of the INVALID_RECORD tests: markerBefore valid
// records, the marker, markerAfter more in partition 0, and markerOthers
// in partition 1, produced in one go so the gateway produces the marker
// with its neighbours.
const markerBefore, markerAfter, markerOthers = 7, 12, 5

func (e *env) produceMarkerInput() {
	e.t.Helper()
	var recs []*kgo.Record
	for i := range markerBefore + 1 + markerAfter {
		key := fmt.Sprintf("p0-%02d", i)
		if i == markerBefore {
			key = "marker"
		}
		recs = append(recs, &kgo.Record{Key: []byte(key), Value: []byte(valid(i)), Partition: 0})
	}
	for i := range markerOthers {
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("p1-%02d", i)), Value: []byte(valid(i)), Partition: 1})
	}
	e.produce(recs...)
}

// checkMarkerRouted checks what the INVALID_RECORD tests expect of the
// outputs: the marker alone quarantined, as a SCHEMA_VIOLATION naming the
// broker's error, and every other record on the clean topic once, in its
// partition's order, the canary last in partition 0.
func (e *env) checkMarkerRouted(clean, dlq []*kgo.Record) {
	t := e.t
	t.Helper()
	var want0, want1, got0, got1 []string
	for i := range markerBefore + 1 + markerAfter {
		if i != markerBefore {
			want0 = append(want0, fmt.Sprintf("p0-%02d", i))
		}
	}
	want0 = append(want0, "canary")
	for i := range markerOthers {
		want1 = append(want1, fmt.Sprintf("p1-%02d", i))
	}
	for _, r := range clean {
		switch r.Partition {
		case 0:
			got0 = append(got0, string(r.Key))
		case 1:
			got1 = append(got1, string(r.Key))
		default:
			t.Fatalf("record %s in clean partition %d", r.Key, r.Partition)
		}
	}
	require.Equal(t, want0, got0, "partition 0 of the clean topic: each record once, in order, the canary last")
	require.Equal(t, want1, got1, "partition 1, in the same produce requests, is untouched")

	require.Len(t, dlq, 1)
	r := dlq[0]
	require.Equal(t, "marker", string(r.Key))
	require.Equal(t, string(record.SchemaViolation), header(r, pipeline.HeaderErrorType))
	msg := header(r, pipeline.HeaderErrorMessage)
	require.Contains(t, msg, "the clean topic validated-events refused the record")
	require.Contains(t, msg, "INVALID_RECORD")
	require.Equal(t, "<missing>", header(r, pipeline.HeaderPayloadOmitted), "the DLQ took the whole record")
	entry, p := e.storedPayload(header(r, pipeline.HeaderQuarantineID))
	require.Equal(t, record.SchemaViolation, entry.ErrorType)
	require.Equal(t, "kafka", entry.Errors[0].Keyword)
	require.Equal(t, int64(markerBefore), entry.SourceOffset)
	require.Equal(t, valid(markerBefore), string(p.Value))
}

// The broker refuses with INVALID_RECORD the batch that carries one
// record, with the records around it: the record is quarantined, every
// other record of its batch and partition reaches the clean topic once and
// in order, and the partition moves on (a canary behind it is delivered
// and committed).
func TestPipelineQuarantinesARecordTheBrokerRefusesAsInvalid(t *testing.T) {
	e := newEnv(t)
	batches, records := e.refuseMarked(cleanTopic, "marker")
	e.produceMarkerInput()
	reg := prometheus.NewRegistry()
	stop := e.run("g", pipeline.NewMetrics(reg), nil)
	const in = markerBefore + 1 + markerAfter + markerOthers
	e.waitCommitted("g", in)
	e.produce(&kgo.Record{Key: []byte("canary"), Value: []byte(valid(99)), Partition: 0})
	e.waitCommitted("g", in+1)
	clean := e.consume(cleanTopic, in)
	dlq := e.consume(dlqTopic, 1)
	require.NoError(t, stop())

	e.checkMarkerRouted(clean, dlq)
	require.GreaterOrEqual(t, batches.Load(), int64(2), "refused with its batch, then alone")
	require.Greater(t, records.Load(), batches.Load(), "a refused batch carried records besides the marker")
	require.Equal(t, 1.0, testutil.ToFloat64(counter(t, reg, "records_detoured_total", "clean_refused")))
	tot := totals(t, reg)
	require.Equal(t, int64(in+1), tot.Valid+tot.Invalid, "the canary counted too")
	require.Equal(t, int64(1), tot.InvalidByErrorType[record.SchemaViolation])
}

// deepJSON is an object nested depth levels deep through "a", the
// innermost holding "leaf": 1, a number.
func deepJSON(depth int) []byte {
	return []byte(strings.Repeat(`{"a":`, depth-1) + `{"leaf":1}` + strings.Repeat("}", depth-1))
}

// deepAvro is the Avro binary of a Node (deepAvroSchema) nested depth
// levels deep whose innermost next holds union index 2, which the union
// does not have: the record breaks at its bottom.
func deepAvro(depth int) []byte {
	b := bytes.Repeat([]byte{2}, depth-1) // next: a Node (index 1, zigzag)
	b = append(b, 4)                      // next: index 2, out of range
	return append(b, bytes.Repeat([]byte{0}, depth)...)
}

const deepAvroSchema = `{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]},{"name":"leaf","type":"int"}]}`

// recursiveJSONSchema nests objects through "a" and wants "leaf" a string.
const recursiveJSONSchema = `{"$defs":{"n":{"type":"object","properties":{"a":{"$ref":"#/$defs/n"},"leaf":{"type":"string"}}}},"$ref":"#/$defs/n"}`

// useSchema makes e validate the input topic against src.
func (e *env) useSchema(f schema.Format, src string, limits jsonschema.Limits) {
	e.t.Helper()
	v, err := formats.Compile(f, "deep", 1, []byte(src), formats.Options{Limits: limits})
	require.NoError(e.t, err)
	res, err := schema.NewStatic(map[string]string{rawTopic: "deep"}, []*schema.Version{v})
	require.NoError(e.t, err)
	e.engine, err = validate.New(validate.Options{Resolver: res, MaxBytes: 1 << 20})
	require.NoError(e.t, err)
}

// The documented bound of the dq.* error headers (api.md): field and
// message cut to 512 bytes, dq.errors the first 32 violations with their
// field and message cut so; its whole size, when the texts need no JSON
// escaping, is under 32 × (512 + 512 + 256 for the type, the keyword and
// the punctuation).
const (
	maxHeaderText   = 512
	maxHeaderErrors = 32
	maxErrorsHeader = maxHeaderErrors * (2*maxHeaderText + 256)
)

// A producer nests records as deep as it likes, with the violation at the
// bottom, where its JSON pointer is longest: the gateway quarantines each
// (at the depth limit, a PARSE_ERROR or DECODE_ERROR), its DLQ headers
// within the documented bound, its row keeping the whole pointer; and the
// valid record behind each is delivered.
func TestPipelineDeeplyNestedRecords(t *testing.T) {
	type deep struct {
		key   string
		value []byte
		want  record.ErrorType
		// field is the length of the primary violation's whole field
		// (the row keeps it), -1 not to check it.
		field int
	}
	cases := []struct {
		name   string
		format schema.Format
		schema string
		limits jsonschema.Limits
		ok     []byte
		deep   []deep
	}{
		{
			name: "json, default depth limit", format: schema.FormatJSON, schema: recursiveJSONSchema,
			ok: []byte(`{"a":{"leaf":"ok"}}`),
			deep: []deep{
				{"json-1000", deepJSON(1000), record.ParseError, -1},
				{"json-10000", deepJSON(10_000), record.ParseError, -1},
			},
		},
		{
			// At the most limits.max_depth allows (1,000: the JSON Schema
			// library's error tree holds ~8·depth² bytes while an invalid
			// record is checked, 8 MB here), the type error at the bottom;
			// one level more breaks the limit at the bottom, where the
			// pointer is as long; a limit asked for above the cap is the
			// cap.
			name: "json, depth limit at its most", format: schema.FormatJSON, schema: recursiveJSONSchema,
			limits: jsonschema.Limits{MaxDepth: 10_000}, ok: []byte(`{"a":{"leaf":"ok"}}`),
			deep: []deep{
				{"json-1000", deepJSON(1000), record.TypeMismatch, len("/a")*999 + len("/leaf")},
				{"json-1001", deepJSON(1001), record.ParseError, len("/a") * 1000},
				{"json-10001", deepJSON(10_001), record.ParseError, len("/a") * 1000},
			},
		},
		{
			// twmb/avro decodes 1,000 levels of schema nodes: 499 of
			// these records (each a record and a union).
			name: "avro", format: schema.FormatAvro, schema: deepAvroSchema,
			ok: []byte{0, 2}, // next null, leaf 1
			deep: []deep{
				{"avro-499", deepAvro(499), record.DecodeError, len("/next") * 499},
				{"avro-10000", deepAvro(10_000), record.DecodeError, -1},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.useSchema(c.format, c.schema, c.limits)
			var recs []*kgo.Record
			for i, d := range c.deep {
				recs = append(recs,
					&kgo.Record{Key: []byte(d.key), Value: d.value},
					&kgo.Record{Key: []byte(fmt.Sprintf("ok-%d", i)), Value: c.ok})
			}
			e.produce(recs...)
			stop := e.run("g", nil, nil)
			e.waitCommitted("g", int64(len(recs)))
			clean := e.consume(cleanTopic, len(c.deep))
			dlq := e.consume(dlqTopic, len(c.deep))
			require.NoError(t, stop())

			for i, r := range clean {
				require.Equal(t, fmt.Sprintf("ok-%d", i), string(r.Key))
			}
			for i, r := range dlq {
				d := c.deep[i]
				require.Equal(t, d.key, string(r.Key))
				require.Equal(t, string(d.want), header(r, pipeline.HeaderErrorType), d.key)
				field, msg := header(r, pipeline.HeaderErrorField), header(r, pipeline.HeaderErrorMessage)
				require.LessOrEqual(t, len(field), maxHeaderText, d.key)
				require.LessOrEqual(t, len(msg), maxHeaderText, d.key)
				errs := header(r, pipeline.HeaderErrors)
				require.LessOrEqual(t, len(errs), maxErrorsHeader, d.key)
				var vs []record.Violation
				require.NoError(t, json.Unmarshal([]byte(errs), &vs), d.key)
				require.NotEmpty(t, vs)
				require.LessOrEqual(t, len(vs), maxHeaderErrors)
				for _, v := range vs {
					require.LessOrEqual(t, len(v.Field), maxHeaderText, d.key)
					require.LessOrEqual(t, len(v.Message), maxHeaderText, d.key)
				}
				entry, p := e.storedPayload(header(r, pipeline.HeaderQuarantineID))
				require.Equal(t, d.want, entry.ErrorType)
				require.Equal(t, d.value, p.Value, "the payload store keeps the record")
				if d.field >= 0 {
					require.Len(t, entry.ErrorField, d.field, "%s: the row keeps the whole field", d.key)
					require.Greater(t, d.field, maxHeaderText, "%s: the header had to cut it", d.key)
					require.True(t, strings.HasSuffix(field, "…"), field)
					require.True(t, strings.HasPrefix(entry.ErrorField, strings.TrimSuffix(field, "…")))
				}
			}
		})
	}
}
