package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/demo"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestMain checks for leaked goroutines after the shared test servers
// (PostgreSQL, MinIO) are stopped.
func TestMain(m *testing.M) { testbackend.Main(m, func() error { return goleak.Find() }) }

// running is a gateway started by apptest, with helpers for its API.
type running struct {
	t    *testing.T
	app  *app.App
	base string
	stop func()
}

func start(t *testing.T, dataDir string) *running {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	return startWith(t, cfg)
}

func startWith(t *testing.T, cfg config.Config) *running {
	t.Helper()
	cfg.Pipeline.BatchSize = 100
	g := apptest.Start(t, cfg)
	return &running{t: t, app: g.App, base: g.URL, stop: g.Stop}
}

func (r *running) getJSON(path string, into any) int {
	r.t.Helper()
	resp, err := http.Get(r.base + path)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	require.NoError(r.t, json.Unmarshal(body, into), "body of %s: %s", path, body)
	return resp.StatusCode
}

func (r *running) metric(series string) float64 {
	r.t.Helper()
	resp, err := http.Get(r.base + "/metrics")
	require.NoError(r.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	for line := range strings.Lines(string(body)) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			require.NoError(r.t, err)
			return v
		}
	}
	r.t.Fatalf("series %s not in /metrics", series)
	return 0
}

// send makes an API call with a JSON body and decodes the JSON answer.
func (r *running) send(method, path, body string, into any) int {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	require.NoError(r.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	if into != nil {
		require.NoError(r.t, json.Unmarshal(b, into), "%s %s answered %s", method, path, b)
	}
	return resp.StatusCode
}

// setState moves a schema version to a rollout state through the gateway's
// API, as an operator would.
func (r *running) setState(subject string, version int, state string) {
	r.t.Helper()
	path := fmt.Sprintf("/api/v1/schemas/%s/versions/%d/state", subject, version)
	require.Equal(r.t, http.StatusOK, r.send(http.MethodPut, path, `{"state":"`+state+`"}`, nil), "PUT %s", path)
}

func produce(t *testing.T, addr string, recs ...*kgo.Record) {
	t.Helper()
	apptest.Produce(t, addr, "raw-events", recs...)
}

func consumeExactly(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	return apptest.ConsumeExactly(t, addr, topic, n)
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

type quarantineItem struct {
	ID            string             `json:"id"`
	SourceTopic   string             `json:"source_topic"`
	SourceOffset  int64              `json:"source_offset"`
	Subject       string             `json:"subject"`
	SchemaVersion int                `json:"schema_version"`
	ErrorType     string             `json:"error_type"`
	ErrorField    string             `json:"error_field"`
	Errors        []record.Violation `json:"errors"`
	Status        string             `json:"status"`
	PayloadSize   int                `json:"payload_size"`
	Payload       *string            `json:"payload"`
}

// The whole flow through the embedded broker: a known mix in, exact counts
// in both topics, headers, quarantine rows, API answers and metric values;
// then a restart on the same data dir reprocesses nothing and loses nothing.
func TestGatewayEndToEndAndRestart(t *testing.T) {
	dataDir := t.TempDir()
	gw := start(t, dataDir)

	gen := demo.NewGenerator(42, 0)
	var recs []*kgo.Record
	for i := range 50 {
		ev := gen.Next(time.Now())
		recs = append(recs, &kgo.Record{Key: []byte("valid-" + strconv.Itoa(i)), Value: ev.Value})
	}
	wantInvalid := map[string]record.ErrorType{}
	bad := demo.NewGenerator(7, 1) // every event invalid, cycling through demo.Kinds
	for i := range 2 * len(demo.Kinds) {
		ev := bad.Next(time.Now())
		key := "invalid-" + strconv.Itoa(i)
		wantInvalid[key] = ev.Kind.Want
		recs = append(recs, &kgo.Record{Key: []byte(key), Value: ev.Value})
	}
	produce(t, gw.app.KafkaAddr(), recs...)

	clean := consumeExactly(t, gw.app.KafkaAddr(), "validated-events", 50)
	for _, r := range clean {
		require.True(t, strings.HasPrefix(string(r.Key), "valid-"), "clean topic got %s", r.Key)
	}
	dlq := consumeExactly(t, gw.app.KafkaAddr(), "quarantine-dlq", len(wantInvalid))
	ids := map[string]string{}
	for _, r := range dlq {
		want, ok := wantInvalid[string(r.Key)]
		require.True(t, ok, "DLQ got %s", r.Key)
		require.Equal(t, string(want), header(r, "dq.error.type"), string(r.Key))
		require.Equal(t, "user_event", header(r, "dq.schema.subject"))
		require.Equal(t, "raw-events", header(r, "dq.source.topic"))
		require.NotEmpty(t, header(r, "dq.quarantine.id"))
		ids[string(r.Key)] = header(r, "dq.quarantine.id")
	}

	// The API lists exactly the quarantined records, filterable by type.
	var list struct {
		Items      []quarantineItem `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine?limit=100", &list))
	require.Len(t, list.Items, len(wantInvalid))
	require.Nil(t, list.NextCursor)
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine?error_type=MISSING_FIELD", &list))
	require.Len(t, list.Items, 2)
	for _, it := range list.Items {
		require.Equal(t, "MISSING_FIELD", it.ErrorType)
		require.Equal(t, "/user_id", it.ErrorField)
		require.Equal(t, "user_event", it.Subject)
		require.Equal(t, 1, it.SchemaVersion)
		require.Equal(t, "quarantined", it.Status)
	}
	var detail quarantineItem
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine/"+ids["invalid-0"], &detail))
	require.NotNil(t, detail.Payload)
	for _, r := range dlq {
		if string(r.Key) == "invalid-0" {
			require.Equal(t, string(r.Value), *detail.Payload)
			require.Equal(t, len(r.Value), detail.PayloadSize)
		}
	}
	var apiErr struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.Equal(t, 404, gw.getJSON("/api/v1/quarantine/does-not-exist", &apiErr))
	require.Equal(t, "not_found", apiErr.Error.Code)

	var stats struct {
		Processed          int64            `json:"processed"`
		Valid              int64            `json:"valid"`
		Invalid            int64            `json:"invalid"`
		InvalidByErrorType map[string]int64 `json:"invalid_by_error_type"`
	}
	total := 50 + len(wantInvalid)
	testwait.For(t, 10*time.Second, "every record processed", func() error {
		gw.getJSON("/api/v1/stats", &stats)
		if stats.Processed != int64(total) {
			return fmt.Errorf("%d of %d processed", stats.Processed, total)
		}
		return nil
	})
	require.Equal(t, int64(50), stats.Valid)
	require.Equal(t, int64(len(wantInvalid)), stats.Invalid)
	for _, k := range demo.Kinds {
		require.Equal(t, int64(2), stats.InvalidByErrorType[string(k.Want)], k.Want)
	}
	require.Equal(t, float64(total), gw.metric(`records_processed_total{subject="user_event",topic="raw-events"}`))
	require.Equal(t, float64(50), gw.metric(`records_valid_total{subject="user_event",topic="raw-events"}`))
	require.Equal(t, float64(2), gw.metric(`records_invalid_total{error_type="FORMAT_VIOLATION",subject="user_event",topic="raw-events"}`))
	require.Equal(t, float64(total), gw.metric(`validation_duration_seconds_count{topic="raw-events"}`))
	// Consumer lag comes from the brokers: every committed partition is at 0.
	testwait.For(t, 30*time.Second, "kafka_lag for the 6 input partitions", func() error {
		resp, err := http.Get(gw.base + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if n := strings.Count(string(body), "\nkafka_lag{"); n != 6 {
			return fmt.Errorf("%d kafka_lag series", n)
		}
		return nil
	})
	for p := range 6 {
		require.Equal(t, float64(0), gw.metric(fmt.Sprintf(`kafka_lag{partition="%d",topic="raw-events"}`, p)))
	}

	// Restart on the same data dir: the broker's log, the group's offsets
	// and the quarantine survive; nothing is reprocessed.
	gw.stop()
	gw = start(t, dataDir)
	more := demo.NewGenerator(99, 0)
	for range 10 {
		produce(t, gw.app.KafkaAddr(), &kgo.Record{Key: []byte("after-restart"), Value: more.Next(time.Now()).Value})
	}
	consumeExactly(t, gw.app.KafkaAddr(), "validated-events", 60)
	consumeExactly(t, gw.app.KafkaAddr(), "quarantine-dlq", len(wantInvalid))
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine?limit=100", &list))
	require.Len(t, list.Items, len(wantInvalid))
	testwait.For(t, 10*time.Second, "the 10 new records processed after the restart, and only them", func() error {
		gw.getJSON("/api/v1/stats", &stats)
		if stats.Processed != 10 {
			return fmt.Errorf("%d processed", stats.Processed)
		}
		return nil
	})
}

// kcat, a librdkafka client, produces to and consumes from the embedded
// broker: any Kafka client works with it.
func TestKcatInterop(t *testing.T) {
	kcat := testbackend.Command(t, "the test command (make test) installs it", "kcat")
	gw := start(t, t.TempDir())
	addr := gw.app.KafkaAddr()
	in := `{"user_id":"USER123456","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}` + "\n" +
		`{"user_id":"USER123456","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}` + "\n"
	cmd := exec.Command(kcat, "-P", "-b", addr, "-t", "raw-events", "-k", "kcat-key", "-H", "origin=kcat")
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kcat produce: %s", out)

	consume := func(topic string) string {
		var got string
		testwait.For(t, 30*time.Second, "kcat to consume a record of "+topic, func() error {
			out, err := exec.Command(kcat, "-C", "-b", addr, "-t", topic, "-o", "beginning", "-e", "-q",
				"-f", "%k|%s|%h\n").Output()
			got = string(out)
			if err == nil && !strings.Contains(got, "\n") {
				err = errors.New("none yet")
			}
			return err
		})
		return got
	}
	clean := consume("validated-events")
	require.Equal(t, fmt.Sprintf("kcat-key|%s|origin=kcat\n", strings.Split(in, "\n")[0]), clean)
	dlq := consume("quarantine-dlq")
	require.Contains(t, dlq, "kcat-key|")
	require.Contains(t, dlq, `"event_type":"scroll"`)
	require.Contains(t, dlq, "origin=kcat")
	require.Contains(t, dlq, "dq.error.type=ENUM_VIOLATION")
	require.Contains(t, dlq, "dq.error.field=/event_type")
	require.Equal(t, 1, strings.Count(dlq, "\n"))
}

// With brokers configured the gateway runs no broker of its own, creates the
// missing topics with the configured partition count, and routes through
// the external cluster.
func TestGatewayExternalBrokers(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Brokers = []string{addr}
	cfg.Kafka.Partitions = 4
	cfg.HTTP.Listen = "127.0.0.1:0"
	require.NoError(t, cfg.Validate())
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	require.False(t, a.Embedded())
	require.Equal(t, addr, a.KafkaAddr())
	for _, topic := range []string{"raw-events", "validated-events", "quarantine-dlq"} {
		info := c.TopicInfo(topic)
		require.NotNil(t, info, "topic %s created", topic)
		require.Len(t, c.PartitionInfos(topic), 4, topic)
	}
	_, err = os.Stat(filepath.Join(cfg.DataDir, "kafka"))
	require.ErrorIs(t, err, os.ErrNotExist, "no embedded broker log")

	produce(t, addr,
		&kgo.Record{Value: []byte(`{"user_id":"USER123456","event_type":"click","timestamp":"2026-01-10T19:50:00Z"}`)},
		&kgo.Record{Value: []byte(`{"user_id":"USER123456","event_type":"click"}`)},
	)
	consumeExactly(t, addr, "validated-events", 1)
	dlq := consumeExactly(t, addr, "quarantine-dlq", 1)
	require.Equal(t, "MISSING_FIELD", header(dlq[0], "dq.error.type"))
	require.Equal(t, "/timestamp", header(dlq[0], "dq.error.field"))
}

// On the production stores (real PostgreSQL and MinIO, each behind its
// local outage spool) the flow is the same: rows and payloads land, the API
// reads them, and the spools stand empty.
func TestGatewayOnPostgresAndS3(t *testing.T) {
	pgURL := testbackend.Postgres(t)
	bucket := testbackend.S3(t)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Storage.Metadata.URL = pgURL
	cfg.Storage.Payloads.URL = fmt.Sprintf("s3://%s?endpoint=%s&secure=false", bucket.Bucket, bucket.Endpoint)
	cfg.Storage.Payloads.AccessKey, cfg.Storage.Payloads.SecretKey = bucket.AccessKey, bucket.SecretKey
	gw := startWith(t, cfg)

	bad := `{"user_id":"USER123456","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}`
	produce(t, gw.app.KafkaAddr(),
		&kgo.Record{Key: []byte("bad"), Value: []byte(bad)},
		&kgo.Record{Key: []byte("good"), Value: []byte(`{"user_id":"USER123456","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`)},
	)
	consumeExactly(t, gw.app.KafkaAddr(), "validated-events", 1)
	dlq := consumeExactly(t, gw.app.KafkaAddr(), "quarantine-dlq", 1)
	var detail quarantineItem
	testwait.For(t, 10*time.Second, "the quarantined record in the API", func() error {
		if code := gw.getJSON("/api/v1/quarantine/"+header(dlq[0], "dq.quarantine.id"), &detail); code != 200 {
			return fmt.Errorf("status %d", code)
		}
		return nil
	})
	require.Equal(t, "ENUM_VIOLATION", detail.ErrorType)
	require.NotNil(t, detail.Payload)
	require.Equal(t, bad, *detail.Payload, "payload read back from MinIO")
	require.Equal(t, float64(0), gw.metric(`spool_depth_records{store="metadata"}`))
	require.Equal(t, float64(0), gw.metric(`spool_depth_records{store="payloads"}`))
	require.Positive(t, gw.metric("postgres_pool_max_connections"))
}

// TestPprofOnlyWhenConfigured: Go's runtime profiles are served only with
// http.pprof.
func TestPprofOnlyWhenConfigured(t *testing.T) {
	for _, on := range []bool{false, true} {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.HTTP.Pprof = on
		gw := startWith(t, cfg)
		resp, err := http.Get(gw.base + "/debug/pprof/goroutine?debug=1")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		if on {
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, string(body), "goroutine profile:")
		} else {
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
		}
		gw.stop()
	}
}
