package pipeline_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// Exactly-once: every batch commits in a transaction. The broker refuses
// the commit of the second one (TRANSACTION_ABORTABLE): the transaction is
// aborted, its records never reach a read_committed consumer, its counts are
// dropped, and the batch is processed again. In the end each input record
// is in the clean topic or the DLQ exactly once, counted once, and
// quarantined once.
func TestPipelineExactlyOnceAbortsAndRedelivers(t *testing.T) {
	e := newEnv(t)
	const n, every = 300, 10 // every tenth record invalid
	var recs []*kgo.Record
	for i := range n {
		v := valid(i)
		if i%every == 0 {
			v = `{"user_id":"USER000001","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}`
		}
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(v), Partition: int32(i % 3)})
	}
	e.produce(recs...)

	commits := 0
	e.cluster.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.cluster.KeepControl()
		if !req.(*kmsg.EndTxnRequest).Commit {
			return nil, nil, false
		}
		if commits++; commits < 2 {
			return nil, nil, false
		}
		e.cluster.DropControl()
		resp := req.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode = kerr.TransactionAbortable.Code
		return resp, nil, true
	})

	reg, s, stop := e.runExactlyOnce("eos-test")
	adm := kadm.NewClient(s.Client())
	testwait.For(t, 30*time.Second, "every input offset committed", func() error {
		return committed(adm, "eos", n)
	})
	stop()

	require.GreaterOrEqual(t, commits, 2, "the second commit was refused")
	seen := map[string]int{}
	for _, topic := range []string{cleanTopic, dlqTopic} {
		for _, r := range readCommitted(t, e.addr, topic) {
			seen[string(r.Key)]++
			i, _ := strconv.Atoi(string(r.Key))
			require.Equal(t, i%every == 0, topic == dlqTopic, "record %d in %s", i, topic)
		}
	}
	require.Len(t, seen, n)
	for k, c := range seen {
		require.Equal(t, 1, c, "record %s seen %d times by a read_committed consumer", k, c)
	}
	tot := totals(t, reg)
	require.Equal(t, int64(n), tot.Processed, "the aborted batch is counted once, when it commits")
	require.Equal(t, int64(n/every), tot.Invalid)
	require.Equal(t, float64(1), testutil.ToFloat64(counter(t, reg, "store_write_errors_total", "kafka_transaction")))
	page, err := e.meta.List(context.Background(), quarantine.Filter{Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	require.Len(t, page.Entries, n/every)
}

// readCommitted reads topic as a read_committed consumer until it has been
// quiet for half a second.
func readCommitted(t *testing.T, addr, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	require.NoError(t, err)
	defer cl.Close()
	var out []*kgo.Record
	for quiet := 0; quiet < 2; {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		recs := cl.PollFetches(ctx).Records()
		cancel()
		if len(recs) == 0 {
			quiet++
			continue
		}
		quiet = 0
		out = append(out, recs...)
	}
	return out
}

// counter returns the series of a counter vector with one label value.
func counter(t *testing.T, reg *prometheus.Registry, name, label string) prometheus.Counter {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
					c.Add(m.GetCounter().GetValue())
					return c
				}
			}
		}
	}
	t.Fatalf("no %s{%q}", name, label)
	return nil
}

// Exactly-once: a valid record too large for the clean topic aborts its
// transaction; the batch, delivered again, quarantines it (the detour is
// remembered across the abort), and read_committed consumers see each
// record once.
func TestPipelineExactlyOnceQuarantinesARecordTheCleanTopicRefuses(t *testing.T) {
	e := newSizedEnv(t, 1<<20)
	e.produce(
		&kgo.Record{Key: []byte("big"), Value: validOfSize(t, 1_000_100)},
		&kgo.Record{Key: []byte("next"), Value: []byte(valid(2))},
	)
	reg, _, stop := e.runExactlyOnce("eos-big")
	e.waitCommitted("eos", 2)
	stop()

	clean := readCommitted(t, e.addr, cleanTopic)
	dlq := readCommitted(t, e.addr, dlqTopic)
	require.Len(t, clean, 1)
	require.Equal(t, "next", string(clean[0].Key))
	require.Len(t, dlq, 1)
	require.Equal(t, string(record.PayloadTooLarge), header(dlq[0], pipeline.HeaderErrorType))
	require.Nil(t, dlq[0].Value)
	require.GreaterOrEqual(t, testutil.ToFloat64(counter(t, reg, "store_write_errors_total", "kafka_transaction")), 1.0)
}

// Exactly-once: the broker refuses with INVALID_RECORD the batch that
// carries one record. The transaction aborts; the batch, delivered again,
// quarantines that record alone, and read_committed consumers see every
// other record of its batch and partition once, in order, and a canary
// behind it.
func TestPipelineExactlyOnceQuarantinesARecordTheBrokerRefusesAsInvalid(t *testing.T) {
	e := newEnv(t)
	batches, records := e.refuseMarked(cleanTopic, "marker")
	e.produceMarkerInput()
	reg, _, stop := e.runExactlyOnce("eos-invalid")
	const in = markerBefore + 1 + markerAfter + markerOthers
	e.waitCommitted("eos", in)
	e.produce(&kgo.Record{Key: []byte("canary"), Value: []byte(valid(99)), Partition: 0})
	e.waitCommitted("eos", in+1)
	stop()

	e.checkMarkerRouted(readCommitted(t, e.addr, cleanTopic), readCommitted(t, e.addr, dlqTopic))
	require.GreaterOrEqual(t, batches.Load(), int64(1))
	require.Greater(t, records.Load(), batches.Load(), "a refused batch carried records besides the marker")
	require.GreaterOrEqual(t, testutil.ToFloat64(counter(t, reg, "store_write_errors_total", "kafka_transaction")), 1.0)
	page, err := e.meta.List(context.Background(), quarantine.Filter{Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1, "only the marker is quarantined")
	tot := totals(t, reg)
	require.Equal(t, int64(in+1), tot.Processed, "each record counted once, the canary too")
	require.Equal(t, int64(1), tot.Invalid)
}

// runExactlyOnce starts a pipeline in exactly-once mode in group "eos",
// its transactional id txnID; stop stops it and closes its session.
func (e *env) runExactlyOnce(txnID string) (reg *prometheus.Registry, s *kgo.GroupTransactSession, stop func()) {
	e.t.Helper()
	s, err := kafka.NewTransactSession(kafka.GroupOptions{Brokers: []string{e.addr}, GroupID: "eos", Topics: []string{rawTopic}}, txnID)
	require.NoError(e.t, err)
	reg = prometheus.NewRegistry()
	p, err := pipeline.New(pipeline.Options{
		Transact: s, Engine: e.engine, Metadata: e.meta, Payloads: e.payloads,
		CleanTopic: cleanTopic, DLQTopic: dlqTopic, Metrics: pipeline.NewMetrics(reg), BatchSize: 50,
		RetryBackoffMin: time.Millisecond, RetryBackoffMax: 5 * time.Millisecond,
	})
	require.NoError(e.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return reg, s, func() {
		cancel()
		require.NoError(e.t, <-done)
		s.Close()
	}
}
