package reprocess_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// seedImported stores records as dlqimport does: the payload is the
// dead-letter record (value and every header), the row names the
// original topic, partition and offset.
func (e *env) seedImported(topic string, partition int32, offset int64, value []byte, headers ...record.Header) quarantine.Entry {
	e.t.Helper()
	ctx := context.Background()
	refs, err := e.payloads.WriteSegment(ctx, fmt.Sprintf("imp-%s-%d-%d", topic, partition, offset), []quarantine.Payload{{Value: value, Headers: headers}})
	require.NoError(e.t, err)
	id := record.ID(topic, partition, offset)
	if topic == "" {
		id = record.ID("connect-dlq", 0, offset)
	}
	en := quarantine.Entry{
		ID: id, SourceTopic: topic, SourcePartition: partition, SourceOffset: offset,
		Key: []byte(fmt.Sprint("key-", offset)), Timestamp: base, QuarantinedAt: base.Add(time.Duration(offset) * time.Second),
		ErrorType: record.DecodeError, Errors: []record.Violation{{Type: record.DecodeError, Keyword: "VALUE_CONVERTER", Message: "imported"}},
		Payload: refs[0], PayloadSize: len(value), Status: quarantine.StatusQuarantined,
	}
	require.NoError(e.t, e.meta.Insert(ctx, []quarantine.Entry{en}))
	return en
}

// createTopic creates a topic with a client of its own: e.client would keep
// the topic's absence in its metadata cache for a while (consume reads end
// offsets through it).
func (e *env) createTopic(name string, partitions int32) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	require.NoError(e.t, err)
	defer cl.Close()
	require.NoError(e.t, kafka.EnsureTopics(context.Background(), cl, []kafka.TopicSpec{{Name: name, Partitions: partitions, ReplicationFactor: -1}}))
}

var connectHeaders = []record.Header{
	{Key: "traceparent", Value: []byte("00-abc-01")},
	{Key: "__connect.errors.topic", Value: []byte("orders")},
	{Key: "__connect.errors.partition", Value: []byte("2")},
	{Key: "__connect.errors.offset", Value: []byte("41")},
	{Key: "__connect.errors.exception.message", Value: []byte("boom")},
	{Key: "__rule.name", Value: []byte("r")},
	{Key: "dq.error.type", Value: []byte("PARSE_ERROR")},
	{Key: reprocess.HeaderReplayCount, Value: []byte("1")},
}

// Target source sends imported records back to their original topic and
// partition, as first produced: without the dead-letter headers, the
// replay counted. A topic the gateway validates is still validated; one it
// does not is published as is; an unknown topic or a value that was never
// stored is refused with the reason.
func TestTargetSource(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.createTopic("orders", 3)
	imported := e.seedImported("orders", 2, 41, []byte(`{"id": 7,`), connectHeaders...)
	unknown := e.seedImported("", -1, -1, []byte("v"))
	omitted := e.seedImported("orders", 1, 5, nil, record.Header{Key: "dq.payload.omitted", Value: []byte("the 2000000-byte value exceeds the DLQ topic's message size limit")})
	validated := e.seedImported(rawTopic, 0, 9, bad(9), connectHeaders[1:3]...)

	// The app's publisher: records keep their source partition.
	pub, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.RecordPartitioner(kafka.SourcePartitioner()))
	require.NoError(t, err)
	defer pub.Close()
	s := e.service(func(o *reprocess.Options) { o.Publisher = pub })
	run(t, s)

	dry, err := s.DryRunTo(ctx, reprocess.Filter{}, reprocess.TargetSource)
	require.NoError(t, err)
	require.Equal(t, [3]int64{4, 1, 3}, [3]int64{dry.Matched, dry.WouldPass, dry.WouldFail})
	dryClean, err := s.DryRun(ctx, reprocess.Filter{})
	require.NoError(t, err)
	require.Equal(t, int64(0), dryClean.WouldPass, "to the clean topic the unbound topic's record fails (SCHEMA_NOT_FOUND)")
	_, err = s.DryRunTo(ctx, reprocess.Filter{}, "elsewhere")
	require.ErrorIs(t, err, reprocess.ErrInvalidRequest)

	id, err := s.Start(ctx, reprocess.Request{Target: reprocess.TargetSource, Reason: "connector fixed", Actor: "bob"})
	require.NoError(t, err)
	j := e.wait(s, id)
	require.Equal(t, quarantine.JobDone, j.State, j.Error)
	require.Equal(t, [3]int64{4, 1, 3}, [3]int64{j.Matched, j.Passed, j.Failed})

	got := e.consume("orders")
	require.Len(t, got, 1)
	r := got[0]
	require.Equal(t, int32(2), r.Partition, "its original partition")
	require.Equal(t, `{"id": 7,`, string(r.Value))
	require.Equal(t, imported.Key, r.Key)
	require.Equal(t, []kgo.RecordHeader{
		{Key: "traceparent", Value: []byte("00-abc-01")},
		{Key: reprocess.HeaderReplayCount, Value: []byte("2")},
	}, r.Headers, "dead-letter headers dropped, the replay counted")
	require.Equal(t, quarantine.StatusReprocessed, e.status(imported.ID).Status)

	st := e.status(unknown.ID)
	require.Equal(t, quarantine.StatusFailedAgain, st.Status)
	require.Contains(t, st.StatusReason, "original topic is unknown")
	st = e.status(omitted.ID)
	require.Equal(t, quarantine.StatusFailedAgain, st.Status)
	require.Contains(t, st.StatusReason, "payload not stored: the 2000000-byte value")
	st = e.status(validated.ID)
	require.Equal(t, quarantine.StatusFailedAgain, st.Status)
	require.Equal(t, record.PatternMismatch, st.ErrorType, "a bound topic is validated")
	require.Empty(t, e.consume(rawTopic))
	require.Empty(t, e.consume(cleanTopic))
}

// Every target publishes a record to its source partition (modulo the
// target's partition count), as the pipeline does: not all to partition 0.
func TestTargetsKeepTheSourcePartition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.createTopic("wide", 4)
	pub, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.RecordPartitioner(kafka.SourcePartitioner()))
	require.NoError(t, err)
	defer pub.Close()
	for p := range int32(4) {
		e.seedImported("wide", p, 1, []byte("v"))
	}
	s := e.service(func(o *reprocess.Options) { o.Publisher = pub })
	run(t, s)
	id, err := s.Start(ctx, reprocess.Request{Target: reprocess.TargetRaw})
	require.NoError(t, err)
	require.Equal(t, quarantine.JobDone, e.wait(s, id).State)
	// raw validates: "wide" is not bound, so nothing passes there; to
	// source they go, each to its partition.
	require.Empty(t, e.consume("wide"))
	id, err = s.Start(ctx, reprocess.Request{Target: reprocess.TargetSource, Filter: reprocess.Filter{Status: quarantine.StatusFailedAgain}})
	require.NoError(t, err)
	require.Equal(t, quarantine.JobDone, e.wait(s, id).State)
	parts := map[int32]int{}
	for _, r := range e.consume("wide") {
		parts[r.Partition]++
	}
	require.Equal(t, map[int32]int{0: 1, 1: 1, 2: 1, 3: 1}, parts)
}
