package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// The UI's tests run over the real parts the gateway composes: the SQLite
// metadata store (records, their lifecycle, jobs, the audit log), the file
// payload store, and, for the actions, a reprocess Service validating with
// the real engine and publishing to an in-process Kafka (kfake).

const (
	rawTopic   = "raw-events"
	cleanTopic = "validated-events"
)

// userEventSchema is what records are validated against when reprocessed.
const userEventSchema = `{
  "type": "object",
  "properties": {
    "user_id": {"type": "string", "pattern": "^USER[0-9]{6}$"},
    "event_type": {"type": "string", "enum": ["view", "click", "purchase"]}
  },
  "required": ["user_id", "event_type"]
}`

// env is a quarantine held by real stores.
type env struct {
	t         *testing.T
	meta      *sqlite.Store
	payloads  *fs.Store
	closeOnce sync.Once
	segments  int

	kafkaOnce sync.Once
	cluster   *kfake.Cluster
	client    *kgo.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	e := &env{t: t, meta: meta, payloads: payloads}
	t.Cleanup(func() {
		require.NoError(t, payloads.Close())
		e.closeMeta()
	})
	return e
}

// closeMeta closes the metadata store, once: a test may close it early to
// see the UI meet a failing store.
func (e *env) closeMeta() {
	e.closeOnce.Do(func() { require.NoError(e.t, e.meta.Close()) })
}

// put quarantines entries with their payloads as the pipeline does: the
// payloads of the batch in one segment, then the metadata pointing at them.
// A nil payload leaves the entry's Payload as it is (a payload the store
// does not hold, say).
func (e *env) put(entries []quarantine.Entry, payloads []*quarantine.Payload) {
	e.t.Helper()
	ctx := context.Background()
	var (
		batch []quarantine.Payload
		at    []int
	)
	for i, p := range payloads {
		if p != nil {
			batch = append(batch, *p)
			at = append(at, i)
		}
	}
	if len(batch) > 0 {
		e.segments++
		refs, err := e.payloads.WriteSegment(ctx, fmt.Sprintf("seg-%d", e.segments), batch)
		require.NoError(e.t, err)
		for j, i := range at {
			entries[i].Payload = refs[j]
			entries[i].PayloadSize = len(batch[j].Value)
		}
	}
	require.NoError(e.t, e.meta.Insert(ctx, entries))
}

func (e *env) get(id string) quarantine.Entry {
	e.t.Helper()
	got, err := e.meta.Get(context.Background(), id)
	require.NoError(e.t, err)
	return got
}

// events returns the audit log's events on target, newest first.
func (e *env) events(target string) []audit.Event {
	e.t.Helper()
	page, err := e.meta.AuditLog().List(context.Background(), audit.Filter{Target: target})
	require.NoError(e.t, err)
	return page.Events
}

const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>`

// at is when the fixture's records were quarantined.
var at = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// hostilePayload is aaa's payload: JSON whose values and headers try to
// leave the page's markup.
func hostilePayload() *quarantine.Payload {
	return &quarantine.Payload{
		Value:   []byte(`{"user_id":"` + strings.ReplaceAll(hostile, `"`, `\"`) + `","nested":{},"list":[1,{"a":true}],"n":null}`),
		Headers: []record.Header{{Key: hostile, Value: []byte(hostile)}, {Key: "bin", Value: []byte{0, 1, 0xff}}},
	}
}

// seed quarantines the fixture's two records: aaa, JSON with a hostile key,
// errors and headers (its payload is aaa, hostilePayload by default), and
// bbb, binary and not JSON.
func (e *env) seed(aaa *quarantine.Payload) {
	e.t.Helper()
	if aaa == nil {
		aaa = hostilePayload()
	}
	e.put([]quarantine.Entry{
		{
			ID: "aaa", SourceTopic: rawTopic, SourceOffset: 1, Key: []byte(hostile), QuarantinedAt: at,
			Subject: "user_event", SchemaVersion: 1, ErrorType: record.PatternMismatch, ErrorField: "/user_id",
			Errors: []record.Violation{
				{Type: record.PatternMismatch, Field: "/user_id", Keyword: "pattern", Message: "bad " + hostile},
				{Type: record.MissingField, Field: "/nested/x", Keyword: "required", Message: "missing"},
			},
			Status: quarantine.StatusQuarantined,
		},
		{
			ID: "bbb", SourceTopic: rawTopic, SourceOffset: 2, QuarantinedAt: at, ErrorType: record.ParseError,
			Errors: []record.Violation{{Type: record.ParseError, Message: "not JSON"}},
			Status: quarantine.StatusQuarantined,
		},
	}, []*quarantine.Payload{aaa, {Value: []byte{0xde, 0xad, '<', 0}}})
}

// handler is the UI over e's stores, with a live sampler over a real
// registry.
func (e *env) handler(mod ...func(*Options)) http.Handler {
	e.t.Helper()
	sampler, err := live.New(live.Options{Gatherer: prometheus.NewRegistry(), Recent: e.meta})
	require.NoError(e.t, err)
	opts := Options{Quarantine: e.meta, Payloads: e.payloads, Live: sampler}
	for _, m := range mod {
		m(&opts)
	}
	h, err := New(opts)
	require.NoError(e.t, err)
	return h
}

// fixture is the UI over the fixture's two records.
func fixture(t *testing.T, mod ...func(*Options)) (http.Handler, *env) {
	t.Helper()
	e := newEnv(t)
	e.seed(nil)
	return e.handler(mod...), e
}

// kafka starts e's in-process broker and a producing client, once.
func (e *env) kafka() (*kfake.Cluster, *kgo.Client) {
	e.t.Helper()
	e.kafkaOnce.Do(func() {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, rawTopic, cleanTopic))
		require.NoError(e.t, err)
		e.t.Cleanup(c.Close)
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		require.NoError(e.t, err)
		e.t.Cleanup(cl.Close)
		e.cluster, e.client = c, cl
	})
	return e.cluster, e.client
}

// service is a reprocess Service over e's stores, validating against
// userEventSchema. Its jobs run once run is called.
func (e *env) service(mod ...func(*reprocess.Options)) *reprocess.Service {
	e.t.Helper()
	_, cl := e.kafka()
	v, err := formats.Compile(schema.FormatJSON, "user_event", 1, []byte(userEventSchema), formats.Options{})
	require.NoError(e.t, err)
	res, err := schema.NewStatic(map[string]string{rawTopic: "user_event"}, []*schema.Version{v})
	require.NoError(e.t, err)
	engine, err := validate.New(validate.Options{Resolver: res})
	require.NoError(e.t, err)
	opts := reprocess.Options{
		Store: e.meta, Payloads: e.payloads, Validator: engine, Publisher: cl, CleanTopic: cleanTopic,
		Audit: e.meta.AuditLog(), RetryBackoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	}
	for _, m := range mod {
		m(&opts)
	}
	s, err := reprocess.New(opts)
	require.NoError(e.t, err)
	return s
}

// run runs s until stop is called or the test ends.
func run(t *testing.T, s *reprocess.Service) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return stop
}

// job waits until the job satisfies ok and returns it.
func (e *env) job(id string, ok func(quarantine.Job) bool) quarantine.Job {
	e.t.Helper()
	var j quarantine.Job
	testwait.For(e.t, 10*time.Second, "job "+id, func() error {
		var err error
		j, err = e.meta.GetJob(context.Background(), id)
		if err != nil {
			return testwait.Stop(err)
		}
		if !ok(j) {
			return fmt.Errorf("job is %+v", j)
		}
		return nil
	})
	return j
}
