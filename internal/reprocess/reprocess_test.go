package reprocess_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/postgres"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

func TestMain(m *testing.M) {
	testbackend.Main(m, func() error { return goleak.Find() })
}

const userEventSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "user_id": {"type": "string", "pattern": "^USER[0-9]{6}$"},
    "event_type": {"type": "string", "enum": ["view", "click", "purchase"]}
  },
  "required": ["user_id", "event_type"]
}`

const (
	rawTopic   = "raw-events"
	cleanTopic = "validated-events"
)

var base = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// env is a broker, real stores and the current validation. Records are
// seeded as the pipeline would have quarantined them (under a stricter
// schema since relaxed, say).
type env struct {
	t        *testing.T
	addr     string
	meta     metadata
	log      audit.Log
	payloads *fs.Store
	engine   *validate.Engine
	client   *kgo.Client
	seeded   int
}

// metadata is what the tests need of a metadata driver.
type metadata interface {
	reprocess.Store
	Insert(ctx context.Context, entries []quarantine.Entry) error
}

// newEnv is an env over SQLite.
func newEnv(t *testing.T) *env {
	t.Helper()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	return newEnvWith(t, meta, meta.AuditLog())
}

func newEnvWith(t *testing.T, meta metadata, log audit.Log) *env {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, rawTopic, cleanTopic))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	dir := t.TempDir()
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })
	v, err := formats.Compile(schema.FormatJSON, "user_event", 1, []byte(userEventSchema), formats.Options{})
	require.NoError(t, err)
	res, err := schema.NewStatic(map[string]string{rawTopic: "user_event"}, []*schema.Version{v})
	require.NoError(t, err)
	engine, err := validate.New(validate.Options{Resolver: res})
	require.NoError(t, err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()[0]))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return &env{t: t, addr: c.ListenAddrs()[0], meta: meta, log: log, payloads: payloads, engine: engine, client: cl}
}

func good(i int) []byte {
	return fmt.Appendf(nil, `{"user_id":"USER%06d","event_type":"view"}`, i)
}

func bad(i int) []byte { return fmt.Appendf(nil, `{"user_id":"u%d","event_type":"view"}`, i) }

// seed quarantines one record per value, with offsets continuing from the
// last seed, and returns their entries.
func (e *env) seed(values [][]byte, headers ...record.Header) []quarantine.Entry {
	e.t.Helper()
	ctx := context.Background()
	ps := make([]quarantine.Payload, len(values))
	for i, v := range values {
		ps[i] = quarantine.Payload{Value: v, Headers: append([]record.Header{{Key: "trace", Value: fmt.Appendf(nil, "t%d", i)}}, headers...)}
	}
	refs, err := e.payloads.WriteSegment(ctx, fmt.Sprintf("seg-%d", e.seeded), ps)
	require.NoError(e.t, err)
	entries := make([]quarantine.Entry, len(values))
	for i := range values {
		off := int64(e.seeded + i)
		entries[i] = quarantine.Entry{
			ID: record.ID(rawTopic, 0, off), SourceTopic: rawTopic, SourcePartition: 0, SourceOffset: off,
			Key: fmt.Appendf(nil, "key-%d", off), Timestamp: base.Add(time.Duration(off) * time.Millisecond),
			QuarantinedAt: base.Add(time.Duration(off) * time.Second), Subject: "user_event", SchemaVersion: 1,
			ErrorType: record.PatternMismatch, ErrorField: "/user_id",
			Errors:  []record.Violation{{Type: record.PatternMismatch, Field: "/user_id", Keyword: "pattern", Message: "old rule"}},
			Payload: refs[i], PayloadSize: len(values[i]), Status: quarantine.StatusQuarantined,
		}
	}
	require.NoError(e.t, e.meta.Insert(ctx, entries))
	e.seeded += len(values)
	return entries
}

func (e *env) service(mutate ...func(*reprocess.Options)) *reprocess.Service {
	e.t.Helper()
	opts := reprocess.Options{
		Store: e.meta, Payloads: e.payloads, Validator: e.engine, Publisher: e.client,
		CleanTopic: cleanTopic, Audit: e.log, BatchSize: 4, RetryBackoff: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, m := range mutate {
		m(&opts)
	}
	s, err := reprocess.New(opts)
	require.NoError(e.t, err)
	return s
}

// run runs s until the test ends.
func run(t *testing.T, s *reprocess.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func (e *env) wait(s *reprocess.Service, id string) quarantine.Job {
	e.t.Helper()
	var j quarantine.Job
	testwait.For(e.t, 10*time.Second, "the job to end", func() error {
		var err error
		j, err = s.Job(context.Background(), id)
		require.NoError(e.t, err)
		if j.State == quarantine.JobRunning {
			return errors.New("still running")
		}
		return nil
	})
	return j
}

// consume returns every record in topic.
func (e *env) consume(topic string) []*kgo.Record {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adm := kadm.NewClient(e.client)
	ends, err := adm.ListEndOffsets(ctx, topic)
	require.NoError(e.t, err)
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(e.t, err)
	defer cl.Close()
	var out []*kgo.Record
	for int64(len(out)) < total {
		fs := cl.PollFetches(ctx)
		require.NoError(e.t, fs.Err())
		out = append(out, fs.Records()...)
	}
	return out
}

func (e *env) status(id string) quarantine.Entry {
	e.t.Helper()
	got, err := e.meta.Get(context.Background(), id)
	require.NoError(e.t, err)
	return got
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entries := e.seed([][]byte{good(1), bad(2), good(3), bad(4), good(5), []byte("{")})
	s := e.service(func(o *reprocess.Options) { o.SampleSize = 2 })
	ctx := context.Background()

	res, err := s.DryRun(ctx, reprocess.Filter{})
	require.NoError(t, err)
	require.Equal(t, int64(6), res.Matched)
	require.Equal(t, int64(3), res.WouldPass)
	require.Equal(t, int64(3), res.WouldFail)
	require.Len(t, res.SampleFailures, 2, "bounded by SampleSize")
	require.Equal(t, entries[5].ID, res.SampleFailures[0].ID, "newest first")
	require.Equal(t, record.ParseError, res.SampleFailures[0].Errors[0].Type)
	require.Equal(t, entries[3].ID, res.SampleFailures[1].ID)
	require.Equal(t, record.PatternMismatch, res.SampleFailures[1].Errors[0].Type)

	res, err = s.DryRun(ctx, reprocess.Filter{IDs: []string{entries[0].ID, entries[1].ID, "nope", entries[0].ID}})
	require.NoError(t, err)
	require.Equal(t, reprocess.DryRunResult{Matched: 2, WouldPass: 1, WouldFail: 1, SampleFailures: res.SampleFailures}, res)

	for _, en := range entries {
		require.Equal(t, quarantine.StatusQuarantined, e.status(en.ID).Status, "a dry run changes nothing")
	}
	require.Empty(t, e.consume(cleanTopic))

	for _, f := range []reprocess.Filter{
		{Status: quarantine.StatusReprocessed},
		{ErrorType: "NOPE"},
		{Since: base.Add(time.Hour), Until: base},
		{IDs: []string{""}},
	} {
		_, err := s.DryRun(ctx, f)
		require.ErrorIs(t, err, reprocess.ErrInvalidRequest, "%+v", f)
	}
}

func TestRunPublishesToClean(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entries := e.seed([][]byte{good(1), bad(2), good(3), nil, good(5), bad(6)})
	reg := prometheus.NewRegistry()
	s := e.service(func(o *reprocess.Options) { o.Registerer = reg })
	run(t, s)
	ctx := context.Background()

	_, err := s.Start(ctx, reprocess.Request{Target: "sideways"})
	require.ErrorIs(t, err, reprocess.ErrInvalidRequest)

	id, err := s.Start(ctx, reprocess.Request{Reason: "relaxed the schema", Actor: "alice", Role: "operator"})
	require.NoError(t, err)
	j := e.wait(s, id)
	require.Equal(t, quarantine.JobDone, j.State, j.Error)
	require.Equal(t, [4]int64{6, 4, 2, 0}, [4]int64{j.Matched, j.Passed, j.Failed, j.Skipped})

	// The tombstone (nil value) is valid by definition.
	passing := []quarantine.Entry{entries[0], entries[2], entries[3], entries[4]}
	got := e.consume(cleanTopic)
	require.Len(t, got, len(passing))
	slices.SortFunc(got, func(a, b *kgo.Record) int { return a.Timestamp.Compare(b.Timestamp) })
	for i, en := range passing {
		r := got[i]
		p, err := e.payloads.Read(ctx, en.Payload)
		require.NoError(t, err)
		require.Equal(t, en.Key, r.Key)
		require.Equal(t, p.Value, r.Value)
		require.True(t, en.Timestamp.Equal(r.Timestamp), "the original timestamp")
		require.Equal(t, []kgo.RecordHeader{
			{Key: "trace", Value: p.Headers[0].Value},
			{Key: reprocess.HeaderReplayCount, Value: []byte("1")},
		}, r.Headers)

		st := e.status(en.ID)
		require.Equal(t, quarantine.StatusReprocessed, st.Status)
		require.Equal(t, 1, st.ReplayCount)
		require.Equal(t, "alice", st.StatusActor)
		require.Equal(t, "relaxed the schema", st.StatusReason)
		require.Equal(t, id, st.Job)
	}
	for _, en := range []quarantine.Entry{entries[1], entries[5]} {
		st := e.status(en.ID)
		require.Equal(t, quarantine.StatusFailedAgain, st.Status)
		require.Equal(t, record.PatternMismatch, st.ErrorType)
		require.NotEqual(t, "old rule", st.Errors[0].Message, "the current errors are stored")
		require.Zero(t, st.ReplayCount)
	}

	events, err := e.log.List(ctx, audit.Filter{Action: quarantine.ActionReprocess})
	require.NoError(t, err)
	require.Len(t, events.Events, 6)
	events, err = e.log.List(ctx, audit.Filter{Target: "job/" + id})
	require.NoError(t, err)
	require.Len(t, events.Events, 1)
	require.Equal(t, "reprocess.start", events.Events[0].Action)

	require.InDelta(t, 4, metric(t, reg, "reprocess_records_total", "passed"), 0)
	require.InDelta(t, 2, metric(t, reg, "reprocess_records_total", "failed"), 0)
	require.InDelta(t, 1, metric(t, reg, "reprocess_jobs_total", "started"), 0)
	require.InDelta(t, 1, metric(t, reg, "reprocess_jobs_total", "done"), 0)

	// A second run finds nothing left to publish: failed_again records
	// fail again, reprocessed ones are not selected.
	id2, err := s.Start(ctx, reprocess.Request{})
	require.NoError(t, err)
	j = e.wait(s, id2)
	require.Equal(t, [3]int64{2, 0, 2}, [3]int64{j.Matched, j.Passed, j.Failed})
	require.Len(t, e.consume(cleanTopic), len(passing))
}

// metric returns the labelled counter's value from the registry.
func metric(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{%s}", name, label)
	return 0
}

func TestTargetRaw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entries := e.seed([][]byte{good(1), bad(2)})
	s := e.service()
	run(t, s)
	id, err := s.Start(context.Background(), reprocess.Request{Filter: reprocess.Filter{Topic: rawTopic}, Target: reprocess.TargetRaw})
	require.NoError(t, err)
	require.Equal(t, quarantine.JobDone, e.wait(s, id).State)
	got := e.consume(rawTopic)
	require.Len(t, got, 1)
	require.Equal(t, entries[0].Key, got[0].Key)
	require.Equal(t, "1", header(got[0], reprocess.HeaderReplayCount))
	require.Empty(t, e.consume(cleanTopic))
}

func TestConcurrentJobsPublishOnce(t *testing.T) {
	t.Parallel()
	concurrentJobs(t, newEnv(t), nil)
}

// Two gateways, each with its own PostgreSQL pool, over one database: the
// claims race across connections.
func TestConcurrentJobsPublishOncePostgres(t *testing.T) {
	t.Parallel()
	url := testbackend.Postgres(t)
	open := func() *postgres.Store {
		s, err := postgres.New(context.Background(), postgres.Options{URL: url})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		return s
	}
	s1 := open()
	concurrentJobs(t, newEnvWith(t, s1, s1.AuditLog()), open())
}

// concurrentJobs starts two jobs over the same records at once, in two
// Services; second, when set, is the second Service's store.
func concurrentJobs(t *testing.T, e *env, second metadata) {
	t.Helper()
	var values [][]byte
	for i := range 120 {
		values = append(values, good(i))
	}
	e.seed(values)
	s1, s2 := e.service(), e.service(func(o *reprocess.Options) { // two gateways over one database
		if second != nil {
			o.Store = second
		}
	})
	run(t, s1)
	run(t, s2)
	ctx := context.Background()
	var (
		wg  sync.WaitGroup
		ids [2]string
	)
	for i, s := range []*reprocess.Service{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.Start(ctx, reprocess.Request{})
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	j1, j2 := e.wait(s1, ids[0]), e.wait(s2, ids[1])
	require.Equal(t, int64(120), j1.Passed+j2.Passed)
	require.Zero(t, j1.Failed+j2.Failed)

	got := e.consume(cleanTopic)
	require.Len(t, got, 120, "each record published once")
	keys := map[string]bool{}
	for _, r := range got {
		require.False(t, keys[string(r.Key)], "key %s twice", r.Key)
		keys[string(r.Key)] = true
	}
}

// stopAfterFirst publishes through the real client, then ends the Run
// whose context it holds: the process "crashes" between publishing a
// batch and marking it.
type stopAfterFirst struct {
	reprocess.Publisher
	once   sync.Once
	cancel context.CancelFunc
}

func (p *stopAfterFirst) ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults {
	res := p.Publisher.ProduceSync(ctx, rs...)
	p.once.Do(p.cancel)
	return res
}

func TestResumeAfterCrash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var values [][]byte
	for i := range 10 {
		values = append(values, good(i))
	}
	entries := e.seed(values)
	ctx := context.Background()

	runCtx, cancel := context.WithCancel(ctx)
	crashing := &stopAfterFirst{Publisher: e.client, cancel: cancel}
	s1 := e.service(func(o *reprocess.Options) { o.Publisher = crashing })
	done := make(chan error, 1)
	go func() { done <- s1.Run(runCtx) }()
	id, err := s1.Start(ctx, reprocess.Request{Reason: "resume me"})
	require.NoError(t, err)
	require.NoError(t, <-done)

	j, err := s1.Job(ctx, id)
	require.NoError(t, err)
	require.Equal(t, quarantine.JobRunning, j.State, "a stopped job stays running")
	held, err := e.meta.Claimed(ctx, id)
	require.NoError(t, err)
	require.Len(t, held, 4, "the published, unfinished batch")
	_, err = s1.Start(ctx, reprocess.Request{})
	require.ErrorIs(t, err, reprocess.ErrClosed)

	s2 := e.service() // the restarted process
	run(t, s2)
	j = e.wait(s2, id)
	require.Equal(t, quarantine.JobDone, j.State, j.Error)
	require.Equal(t, [3]int64{10, 10, 0}, [3]int64{j.Matched, j.Passed, j.Failed})
	for _, en := range entries {
		require.Equal(t, quarantine.StatusReprocessed, e.status(en.ID).Status)
	}
	// At least once: the batch held at the crash is published again.
	got := e.consume(cleanTopic)
	require.Len(t, got, 10+4)
	seen := map[string]int{}
	for _, r := range got {
		seen[string(r.Key)]++
	}
	require.Len(t, seen, 10)
}

// A job selecting by filter takes the records quarantined before it
// started: one quarantined meanwhile is left alone, so the job's count
// (matched) holds and its progress never passes 100%.
func TestJobTakesRecordsQuarantinedBeforeItStarted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	old := e.seed([][]byte{good(1), good(2), good(3)})
	s := e.service()
	id, err := s.Start(ctx, reprocess.Request{Reason: "schema fixed"}) // stored; runs when s does
	require.NoError(t, err)
	late := old[0]
	late.ID, late.SourceOffset, late.QuarantinedAt = record.ID(rawTopic, 0, 99), 99, time.Now().Add(time.Minute)
	require.NoError(t, e.meta.Insert(ctx, []quarantine.Entry{late}))

	run(t, s)
	j := e.wait(s, id)
	require.Equal(t, quarantine.JobDone, j.State, j.Error)
	require.Equal(t, [3]int64{3, 3, 0}, [3]int64{j.Matched, j.Passed, j.Failed})
	require.Equal(t, quarantine.StatusQuarantined, e.status(late.ID).Status, "quarantined after the job started")
	var f reprocess.Filter
	require.NoError(t, json.Unmarshal(j.Filter, &f))
	require.False(t, f.Until.IsZero(), "the bound is stored with the job")
}

func TestLoopGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	atMax := e.seed([][]byte{good(1)}, record.Header{Key: reprocess.HeaderReplayCount, Value: []byte("3")})[0]
	below := e.seed([][]byte{good(2)}, record.Header{Key: reprocess.HeaderReplayCount, Value: []byte("2")})[0]
	s := e.service()
	run(t, s)
	ctx := context.Background()

	res, err := s.DryRun(ctx, reprocess.Filter{})
	require.NoError(t, err)
	require.Equal(t, int64(1), res.WouldFail)
	require.Equal(t, "max_replays", res.SampleFailures[0].Errors[0].Keyword)

	id, err := s.Start(ctx, reprocess.Request{Reason: "again"})
	require.NoError(t, err)
	j := e.wait(s, id)
	require.Equal(t, [2]int64{1, 1}, [2]int64{j.Passed, j.Failed})

	st := e.status(atMax.ID)
	require.Equal(t, quarantine.StatusFailedAgain, st.Status)
	require.Contains(t, st.StatusReason, "loop guard")
	require.Equal(t, atMax.Errors, st.Errors, "the errors are the record's own")

	got := e.consume(cleanTopic)
	require.Len(t, got, 1)
	require.Equal(t, below.Key, got[0].Key)
	require.Equal(t, "3", header(got[0], reprocess.HeaderReplayCount), "incremented, and set once")
	require.Equal(t, 3, e.status(below.ID).ReplayCount)
}

func TestCorrectedPayload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	en := e.seed([][]byte{bad(1)})[0]
	s := e.service(func(o *reprocess.Options) { o.MaxPayloadBytes = 64 })
	run(t, s)
	ctx := context.Background()
	c := quarantine.Change{Actor: "bob", Reason: "fixed the id"}
	require.ErrorIs(t, s.Correct(ctx, en.ID, make([]byte, 65), c), reprocess.ErrInvalidRequest)
	require.NoError(t, s.Correct(ctx, en.ID, good(1), c))

	res, err := s.DryRun(ctx, reprocess.Filter{IDs: []string{en.ID}})
	require.NoError(t, err)
	require.Equal(t, int64(1), res.WouldPass)

	id, err := s.Start(ctx, reprocess.Request{Filter: reprocess.Filter{IDs: []string{en.ID}}})
	require.NoError(t, err)
	require.Equal(t, int64(1), e.wait(s, id).Passed)
	got := e.consume(cleanTopic)
	require.Len(t, got, 1)
	require.Equal(t, good(1), got[0].Value)
	p, err := e.payloads.Read(ctx, en.Payload)
	require.NoError(t, err)
	require.Equal(t, bad(1), p.Value, "the original is kept")
	require.ErrorIs(t, s.Correct(ctx, en.ID, good(2), c), quarantine.ErrConflict, "a reprocessed record is final")
}

func TestDiscard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entries := e.seed([][]byte{good(1), good(2)})
	s := e.service()
	run(t, s)
	ctx := context.Background()
	require.NoError(t, s.Discard(ctx, entries[0].ID, quarantine.Change{Actor: "carol", Reason: "test data"}))
	require.ErrorIs(t, s.Discard(ctx, entries[0].ID, quarantine.Change{}), quarantine.ErrConflict)
	require.ErrorIs(t, s.Discard(ctx, "nope", quarantine.Change{}), quarantine.ErrNotFound)

	id, err := s.Start(ctx, reprocess.Request{})
	require.NoError(t, err)
	j := e.wait(s, id)
	require.Equal(t, [2]int64{1, 1}, [2]int64{j.Matched, j.Passed})
	st := e.status(entries[0].ID)
	require.Equal(t, quarantine.StatusDiscarded, st.Status)
	require.Equal(t, "test data", st.StatusReason)
	got := e.consume(cleanTopic)
	require.Len(t, got, 1)
	require.Equal(t, entries[1].Key, got[0].Key)
}

// failing never publishes.
type failing struct{}

func (failing) ProduceSync(context.Context, ...*kgo.Record) kgo.ProduceResults {
	return kgo.ProduceResults{{Err: kgo.ErrRecordTimeout}}
}

func TestJobFailsAndReleases(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entries := e.seed([][]byte{good(1), good(2)})
	s := e.service(func(o *reprocess.Options) { o.Publisher = failing{}; o.MaxAttempts = 2 })
	run(t, s)
	id, err := s.Start(context.Background(), reprocess.Request{})
	require.NoError(t, err)
	j := e.wait(s, id)
	require.Equal(t, quarantine.JobFailed, j.State)
	require.Contains(t, j.Error, "publishing")
	for _, en := range entries {
		require.Equal(t, quarantine.StatusQuarantined, e.status(en.ID).Status, "released, not failed_again: an outage is not bad data")
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	_, err := reprocess.New(reprocess.Options{})
	require.Error(t, err)
}

// A job whose process died (its lease ran out) is taken over; one another
// live process holds is left alone.
func TestResumeOrphanedJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed([][]byte{good(1), good(2)})
	ctx := context.Background()
	require.NoError(t, e.meta.CreateJob(ctx, quarantine.Job{
		ID: "held", State: quarantine.JobRunning, Filter: []byte(`{"ids":["x"]}`), Target: "clean",
		Owner: "alive", LeaseUntil: time.Now().Add(time.Hour),
	}))
	require.NoError(t, e.meta.CreateJob(ctx, quarantine.Job{
		ID: "orphan", State: quarantine.JobRunning, Filter: []byte(`{}`), Target: "clean",
		Owner: "dead", LeaseUntil: time.Now().Add(-time.Second),
	}))
	s := e.service(func(o *reprocess.Options) { o.ScanInterval = 5 * time.Millisecond })
	run(t, s)
	j := e.wait(s, "orphan")
	require.Equal(t, [2]int64{2, 2}, [2]int64{j.Matched, j.Passed})
	require.Len(t, e.consume(cleanTopic), 2)
	held, err := s.Job(ctx, "held")
	require.NoError(t, err)
	require.Equal(t, quarantine.JobRunning, held.State)
	require.Equal(t, "alive", held.Owner)
}

// A republished record's own dq.* headers leave as dq.original.*, as the
// pipeline's outputs do: only the gateway writes dq.*.
func TestRunMovesRecordVerdictHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed([][]byte{good(1)}, record.Header{Key: "dq.error.type", Value: []byte("NONE")})
	s := e.service()
	run(t, s)
	id, err := s.Start(context.Background(), reprocess.Request{})
	require.NoError(t, err)
	require.Equal(t, quarantine.JobDone, e.wait(s, id).State)
	got := e.consume(cleanTopic)
	require.Len(t, got, 1)
	require.Equal(t, []kgo.RecordHeader{
		{Key: "trace", Value: []byte("t0")},
		{Key: "dq.original.error.type", Value: []byte("NONE")},
		{Key: reprocess.HeaderReplayCount, Value: []byte("1")},
	}, got[0].Headers)
}

// A record the clean topic refuses for what it is (here larger than the
// producer may send) fails again with the broker's reason; the job goes on
// and the rest of its batch is published.
func TestRunMarksRecordsTheTopicRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big := []byte(`{"user_id":"USER000001","event_type":"view","pad":"` + strings.Repeat("x", 1_000_100) + `"}`)
	entries := e.seed([][]byte{good(1), big, good(3)})
	s := e.service()
	run(t, s)
	id, err := s.Start(context.Background(), reprocess.Request{Reason: "retry"})
	require.NoError(t, err)
	j := e.wait(s, id)
	require.Equal(t, quarantine.JobDone, j.State, j.Error)
	require.Equal(t, [3]int64{3, 2, 1}, [3]int64{j.Matched, j.Passed, j.Failed})
	require.Len(t, e.consume(cleanTopic), 2)
	st := e.status(entries[1].ID)
	require.Equal(t, quarantine.StatusFailedAgain, st.Status)
	require.Contains(t, st.StatusReason, "validated-events refused the record: MESSAGE_TOO_LARGE")
	require.Zero(t, st.ReplayCount)
}

// TestCheck: a payload is validated for a record as reprocessing would, and
// nothing changes.
func TestCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	en := e.seed([][]byte{bad(1)})[0]
	s := e.service(func(o *reprocess.Options) { o.MaxPayloadBytes = 64 })
	ctx := context.Background()

	c, err := s.Check(ctx, en.ID, good(1))
	require.NoError(t, err)
	require.Equal(t, reprocess.Check{Subject: "user_event", Version: 1, Violations: []record.Violation{}}, c)

	c, err = s.Check(ctx, en.ID, []byte(`{"user_id":"bob","event_type":"jump"}`))
	require.NoError(t, err)
	require.Equal(t, "user_event", c.Subject)
	var fields []string
	for _, v := range c.Violations {
		fields = append(fields, v.Field)
	}
	require.ElementsMatch(t, []string{"/user_id", "/event_type"}, fields, "every violation")

	c, err = s.Check(ctx, en.ID, []byte(`{"user_id":`))
	require.NoError(t, err)
	require.Equal(t, record.ParseError, c.Violations[0].Type)

	_, err = s.Check(ctx, "nope", good(1))
	require.ErrorIs(t, err, quarantine.ErrNotFound)
	_, err = s.Check(ctx, en.ID, make([]byte, 65))
	require.ErrorIs(t, err, reprocess.ErrInvalidRequest)

	// Nothing changed: no correction, no status, no audit event.
	got := e.status(en.ID)
	require.Equal(t, quarantine.StatusQuarantined, got.Status)
	require.False(t, got.Corrected)
	page, err := e.log.List(ctx, audit.Filter{})
	require.NoError(t, err)
	require.Empty(t, page.Events)
}
