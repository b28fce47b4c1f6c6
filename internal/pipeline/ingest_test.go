package pipeline_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// convertAsIs makes a row for each record, as an importer would.
func convertAsIs(kr *kgo.Record) (quarantine.Entry, quarantine.Payload) {
	e := quarantine.Entry{
		ID: record.ID(kr.Topic, kr.Partition, kr.Offset), SourceTopic: kr.Topic,
		SourcePartition: kr.Partition, SourceOffset: kr.Offset, Key: kr.Key, Timestamp: kr.Timestamp,
		QuarantinedAt: time.Now().UTC(), ErrorType: record.DecodeError,
		Errors:      []record.Violation{{Type: record.DecodeError, Message: "imported"}},
		PayloadSize: len(kr.Value), Status: quarantine.StatusQuarantined,
	}
	p := quarantine.Payload{Value: kr.Value, Headers: []record.Header{{Key: "h", Value: []byte(strconv.FormatInt(kr.Offset, 10))}}}
	return e, p
}

// runIngester follows rawTopic in group until the returned stop is called.
func (e *env) runIngester(group string, payloads quarantine.PayloadStore, onCommit func([]*kgo.Record)) (stop func() error) {
	e.t.Helper()
	cl, err := kafka.NewGroupClient(kafka.GroupOptions{Brokers: []string{e.addr}, GroupID: group, Topics: []string{rawTopic}})
	require.NoError(e.t, err)
	in, err := pipeline.NewIngester(pipeline.IngestOptions{
		Client: cl, Convert: convertAsIs, Metadata: e.meta, Payloads: payloads, BatchSize: 7,
		RetryBackoffMin: time.Millisecond, RetryBackoffMax: 5 * time.Millisecond, OnCommit: onCommit,
	})
	require.NoError(e.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	return func() error {
		cancel()
		err := <-done
		cl.Close()
		return err
	}
}

// The ingester writes every record durably (through a payload store outage)
// and commits only then; a second run of the group finds nothing left, and
// a new group rewrites nothing.
func TestIngesterFollowsWritesThenCommits(t *testing.T) {
	e := newEnv(t)
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{Partition: int32(i % 3), Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i))})
	}
	e.produce(recs...)

	fp := &failingPayloads{PayloadStore: e.payloads}
	fp.failures.Store(2)
	var mu sync.Mutex
	committed := 0
	allDone := make(chan struct{})
	stop := e.runIngester("imports", fp, func(rs []*kgo.Record) {
		mu.Lock()
		defer mu.Unlock()
		committed += len(rs)
		if committed == 30 {
			close(allDone)
		}
	})
	select {
	case <-allDone:
	case <-time.After(30 * time.Second):
		t.Fatal("the ingester did not commit every record")
	}
	require.NoError(t, stop())

	page, err := e.meta.List(context.Background(), quarantine.Filter{Limit: 100})
	require.NoError(t, err)
	require.Len(t, page.Entries, 30)
	for _, en := range page.Entries {
		p, err := e.payloads.Read(context.Background(), en.Payload)
		require.NoError(t, err)
		require.Equal(t, "v"+string(en.Key[1:]), string(p.Value))
		require.Equal(t, strconv.FormatInt(en.SourceOffset, 10), string(p.Headers[0].Value))
	}

	adm := kadm.NewClient(newAdminClient(t, e.addr))
	offs, err := adm.FetchOffsets(context.Background(), "imports")
	require.NoError(t, err)
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	require.Equal(t, int64(30), sum, "every offset committed")

	// A new group re-reads the topic: the same ids, no new rows.
	again := make(chan struct{})
	n := 0
	stop = e.runIngester("imports-again", e.payloads, func(rs []*kgo.Record) {
		if n += len(rs); n == 30 {
			close(again)
		}
	})
	select {
	case <-again:
	case <-time.After(30 * time.Second):
		t.Fatal("the second group did not read every record")
	}
	require.NoError(t, stop())
	page2, err := e.meta.List(context.Background(), quarantine.Filter{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, page.Entries, page2.Entries)
}

func TestIngesterWriteValidates(t *testing.T) {
	e := newEnv(t)
	in, err := pipeline.NewIngester(pipeline.IngestOptions{Metadata: e.meta, Payloads: e.payloads})
	require.NoError(t, err)
	require.NoError(t, in.Write(context.Background(), nil, nil), "nothing to write")
	require.Error(t, in.Write(context.Background(), make([]quarantine.Entry, 1), nil))
	require.Error(t, in.Run(context.Background()), "Run needs a client and a converter")
	_, err = pipeline.NewIngester(pipeline.IngestOptions{})
	require.Error(t, err)
}

func newAdminClient(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// Two imported records can share an id and differ (one original record
// dead-lettered twice): writing the second must not touch the segment the
// first one's row points into; writing the same batch again rewrites it.
func TestIngesterWriteNeverOverwritesAnotherBatchesPayload(t *testing.T) {
	e := newEnv(t)
	in, err := pipeline.NewIngester(pipeline.IngestOptions{Metadata: e.meta, Payloads: e.payloads})
	require.NoError(t, err)
	ctx := context.Background()
	write := func(value string) quarantine.Entry {
		en, p := convertAsIs(&kgo.Record{Topic: "orders", Partition: 1, Offset: 7, Value: []byte(value)})
		entries := []quarantine.Entry{en}
		require.NoError(t, in.Write(ctx, entries, []quarantine.Payload{p}))
		return entries[0]
	}
	first := write("first")
	second := write("second, longer than the first")
	again := write("first")
	require.NotEqual(t, first.Payload.Segment, second.Payload.Segment)
	require.Equal(t, first.Payload, again.Payload, "the same batch rewrites its segment")

	stored, err := e.meta.Get(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, first.Payload, stored.Payload, "the first write's row stays")
	p, err := e.payloads.Read(ctx, stored.Payload)
	require.NoError(t, err)
	require.Equal(t, "first", string(p.Value))

	// Nor can it collide with the pipeline's segment for the same id
	// (seg-...): a record the gateway quarantined, read back from a DLQ.
	require.True(t, strings.HasPrefix(first.Payload.Segment, "imp-"), first.Payload.Segment)
}

// An imported batch whose writes fail for good holds the group's rebalance
// block for at most MaxBatchHold, as the pipeline's do: it is released,
// uncommitted, polled again, and once the store heals every record is
// written and committed.
func TestIngesterReleasesABatchItCannotMakeDurable(t *testing.T) {
	e := newEnv(t)
	var recs []*kgo.Record
	for i := range 12 {
		recs = append(recs, &kgo.Record{Partition: int32(i % 3), Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v")})
	}
	e.produce(recs...)
	stuck := &stuckPayloads{PayloadStore: e.payloads}
	reg := prometheus.NewRegistry()
	cl, err := kafka.NewGroupClient(kafka.GroupOptions{Brokers: []string{e.addr}, GroupID: "imports", Topics: []string{rawTopic}})
	require.NoError(t, err)
	defer cl.Close()
	var committed atomic.Int64
	in, err := pipeline.NewIngester(pipeline.IngestOptions{
		Client: cl, Convert: convertAsIs, Metadata: e.meta, Payloads: stuck, Metrics: pipeline.NewMetrics(reg),
		RetryBackoffMin: time.Millisecond, RetryBackoffMax: 5 * time.Millisecond, MaxBatchHold: 200 * time.Millisecond,
		OnCommit: func(rs []*kgo.Record) { committed.Add(int64(len(rs))) },
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	testwait.For(t, 20*time.Second, "the stuck batch to be released, again and again", func() error {
		if n := value(t, reg, "pipeline_batches_released_total"); n < 2 {
			return fmt.Errorf("released %v times", n)
		}
		return nil
	})
	require.Zero(t, committed.Load(), "nothing committed while the store fails")

	stuck.healed.Store(true)
	testwait.For(t, 20*time.Second, "every record written and committed", func() error {
		if n := committed.Load(); n != 12 {
			return fmt.Errorf("%d committed", n)
		}
		return nil
	})
	cancel()
	require.NoError(t, <-done)
}
