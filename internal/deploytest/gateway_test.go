package deploytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

func TestMain(m *testing.M) {
	testbackend.Main(m, stopGateways, func() error { return goleak.Find() })
}

// gateway is a real gateway (internal/app) running in this process with an
// embedded broker, on free ports, with traffic produced into raw-events.
type gateway struct {
	base    string
	broker  string
	cancel  context.CancelFunc
	done    chan error
	stopped sync.Once
	err     error
	tempDir string // removed after stop, when the gateway made it
}

// stop stops the gateway and waits for it; it is safe to call again.
func (g *gateway) stop() error {
	g.stopped.Do(func() {
		g.cancel()
		g.err = <-g.done
		if g.tempDir != "" {
			g.err = errors.Join(g.err, os.RemoveAll(g.tempDir))
		}
	})
	return g.err
}

var gateways struct {
	mu  sync.Mutex
	all []*gateway
	one sync.Once
	std *gateway
	err error
}

// stopGateways stops every gateway the tests started, before goleak looks.
func stopGateways() error {
	gateways.mu.Lock()
	defer gateways.mu.Unlock()
	var errs []error
	for _, g := range gateways.all {
		errs = append(errs, g.stop())
	}
	gateways.all = nil
	return errors.Join(errs...)
}

// startGateway starts a gateway with cfg (whose listeners and data dir it
// sets) and waits until it is ready. It runs until stopped, at the latest
// when the package's tests end. An empty dataDir is a new temporary one.
func startGateway(cfg config.Config, dataDir string) (*gateway, error) {
	tempDir := ""
	if dataDir == "" {
		d, err := os.MkdirTemp("", "dq-deploytest-")
		if err != nil {
			return nil, err
		}
		dataDir, tempDir = d, d
	}
	cfg.DataDir = dataDir
	cfg.Kafka.Embedded.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Pipeline.BatchSize = 100
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg, Version: "deploytest", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cancel()
		if tempDir != "" {
			_ = os.RemoveAll(tempDir)
		}
		return nil, err
	}
	g := &gateway{base: "http://" + a.HTTPAddr(), broker: a.KafkaAddr(), cancel: cancel, done: make(chan error, 1), tempDir: tempDir}
	go func() { g.done <- a.Run(ctx) }()
	gateways.mu.Lock()
	gateways.all = append(gateways.all, g)
	gateways.mu.Unlock()
	err = testwait.Until(30*time.Second, func() error {
		status, _, err := httpGet(g.base + "/readyz")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("/readyz answers %d", status)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gateway never became ready: %w", err)
	}
	return g, nil
}

func httpGet(url string) (int, string, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, http.NoBody)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// Records produced by produceTraffic: valid ones, and invalid ones of
// several error types.
var (
	validRecords = []string{
		`{"user_id":"USER123456","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`,
		`{"user_id":"USER654321","event_type":"click","timestamp":"2026-01-10T19:51:00Z"}`,
		`{"user_id":"USER000001","event_type":"purchase","timestamp":"2026-01-10T19:52:00Z"}`,
	}
	invalidRecords = []string{
		`{"event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`,
		`{"user_id":"nope","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`,
		`not json at all`,
	}
)

// produceTraffic produces the valid and invalid records to raw-events with
// franz-go, rounds times over.
func (g *gateway) produceTraffic(ctx context.Context, rounds int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(g.broker), kgo.DefaultProduceTopic("raw-events"))
	if err != nil {
		return err
	}
	defer cl.Close()
	var recs []*kgo.Record
	for range rounds {
		for _, v := range append(append([]string(nil), validRecords...), invalidRecords...) {
			recs = append(recs, &kgo.Record{Value: []byte(v)})
		}
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

// metricValue sums the samples of the series whose name and labels start
// with prefix, e.g. `records_processed_total{`.
func metricValue(body, prefix string) float64 {
	var total float64
	for line := range strings.Lines(body) {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		fields := strings.Fields(line)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			total += v
		}
	}
	return total
}

// waitProcessed waits until the gateway counted at least valid and invalid
// records, and returns its /metrics body.
func (g *gateway) waitProcessed(valid, invalid float64) (string, error) {
	var body string
	err := testwait.Until(30*time.Second, func() error {
		var err error
		if _, body, err = httpGet(g.base + "/metrics"); err != nil {
			return err
		}
		gotValid, gotInvalid := metricValue(body, "records_valid_total{"), metricValue(body, "records_invalid_total{")
		if gotValid < valid || gotInvalid < invalid {
			return fmt.Errorf("gateway counted %v valid and %v invalid records, want %v and %v", gotValid, gotInvalid, valid, invalid)
		}
		return nil
	})
	return body, err
}

// waitSeries waits until /metrics has a sample line starting with prefix.
func (g *gateway) waitSeries(prefix string, timeout time.Duration) error {
	return testwait.Until(timeout, func() error {
		_, body, err := httpGet(g.base + "/metrics")
		if err == nil && !strings.Contains("\n"+body, "\n"+prefix) {
			err = fmt.Errorf("no %s series in /metrics", prefix)
		}
		return err
	})
}

// sharedGateway is the default-config gateway the dashboard and alert tests
// scrape, started once with traffic already validated.
func sharedGateway(t *testing.T) *gateway {
	t.Helper()
	gateways.one.Do(func() {
		cfg := config.Default()
		cfg.Demo.Enabled = true // steady traffic for rate() in Prometheus
		cfg.Demo.Rate = 50
		g, err := startGateway(cfg, "")
		if err != nil {
			gateways.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := g.produceTraffic(ctx, 5); err != nil {
			gateways.err = err
			return
		}
		if _, err := g.waitProcessed(float64(5*len(validRecords)), float64(5*len(invalidRecords))); err != nil {
			gateways.err = err
			return
		}
		// kafka_lag is read from the brokers every 10s, the first time
		// possibly before the group has committed anything.
		if err := g.waitSeries("kafka_lag{", 30*time.Second); err != nil {
			gateways.err = err
			return
		}
		gateways.std = g
	})
	require.NoError(t, gateways.err, "starting the shared gateway")
	return gateways.std
}

// scrapeGatewayOnce returns the metric names the shared gateway exports: those
// of its /metrics, and the pipeline's vectors that have no series yet.
func scrapeGatewayOnce(t *testing.T) map[string]bool {
	t.Helper()
	g := sharedGateway(t)
	status, body, err := httpGet(g.base + "/metrics")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	names, err := ExpositionNames(body)
	require.NoError(t, err)
	for n := range pipelineMetricNames(t) {
		names[n] = true
	}
	return names
}

// TestGatewayExportsDocumentedMetrics holds the scrape to the core metrics
// of PRODUCT.md §8 and docs/metrics.md, with the labels queries use.
func TestGatewayExportsDocumentedMetrics(t *testing.T) {
	g := sharedGateway(t)
	_, body, err := httpGet(g.base + "/metrics")
	require.NoError(t, err)
	for _, series := range []string{
		`records_processed_total{subject="user_event",topic="raw-events"}`,
		`records_valid_total{subject="user_event",topic="raw-events"}`,
		`records_invalid_total{error_type=`,
		`validation_duration_seconds_bucket{topic="raw-events",le="0.05"}`,
		`validation_duration_seconds_count{topic="raw-events"}`,
		`pipeline_batches_total`,
		`kafka_lag{partition="0",topic="raw-events"}`,
		`circuit_state{topic="raw-events"}`,
		`circuit_trips_total{topic="raw-events"}`,
		`dataquarantine_build_info{version="deploytest"}`,
		`process_resident_memory_bytes`,
		`go_goroutines`,
	} {
		require.Contains(t, body, series)
	}
}

// TestPostgresPoolMetrics starts a gateway whose metadata store is a real
// PostgreSQL and checks the pool gauges the saturation alert reads.
func TestPostgresPoolMetrics(t *testing.T) {
	cfg := config.Default()
	cfg.Storage.Metadata.URL = testbackend.Postgres(t)
	g, err := startGateway(cfg, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, g.stop()) })
	_, body, err := httpGet(g.base + "/metrics")
	require.NoError(t, err)
	require.Contains(t, body, "postgres_pool_active_connections ")
	require.Greater(t, metricValue(body, "postgres_pool_max_connections "), 0.0)

	// Without PostgreSQL there is no pool, and no gauge pretending one.
	require.NotContains(t, scrapeGatewayOnceBody(t), "postgres_pool_")
}

func scrapeGatewayOnceBody(t *testing.T) string {
	t.Helper()
	_, body, err := httpGet(sharedGateway(t).base + "/metrics")
	require.NoError(t, err)
	return body
}

// recordingRegisterer keeps what is registered on it, so that metric vectors
// that have no series yet (store_write_errors_total before the first
// failure) still count as exported.
type recordingRegisterer struct{ collectors []prometheus.Collector }

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return nil
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
}

func (r *recordingRegisterer) Unregister(prometheus.Collector) bool { return false }

var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// pipelineMetricNames are the sample names pipeline.NewMetrics (and the
// shadow tally beside it) registers, series or not (a histogram's _bucket,
// _sum and _count).
func pipelineMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	var reg recordingRegisterer
	pipeline.NewMetrics(&reg)
	_, err := shadow.New(shadow.Options{Registerer: &reg})
	require.NoError(t, err)
	names := map[string]bool{}
	for _, c := range reg.collectors {
		ch := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := descName.FindStringSubmatch(d.String())
			require.NotNil(t, m, "cannot read the name of %s", d)
			names[m[1]] = true
			if strings.HasSuffix(m[1], "_seconds") {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					names[m[1]+s] = true
				}
			}
		}
	}
	require.True(t, names["records_processed_total"], "pipeline metrics not found: %v", names)
	return names
}
