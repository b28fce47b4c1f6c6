package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/demo"
	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/web"
)

// testClock is a clock the test moves; the UI's goroutines read it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// hourOfTraffic is an hour of a gateway's metrics, recorded by a
// live.Recorder with a test clock in a few seconds instead of an hour:
// raw-events gets --demo's traffic (the demo generator's records, 50 a
// second, 20% invalid, every kind in turn) and clicks-raw a smaller
// stream. Two things happen: from 43 to 35 minutes ago a producer sends
// bad timestamps (FORMAT_VIOLATION), and from 18 to 12 minutes ago a burst
// faster than the gateway goes builds a consumer lag it then drains.
type hourOfTraffic struct {
	clock                     *testClock
	reg                       *prometheus.Registry
	processed, valid, invalid *prometheus.CounterVec
	latency                   *prometheus.HistogramVec
	lag                       *prometheus.GaugeVec
	recorder                  *live.Recorder
	gen                       *demo.Generator
	backlog                   float64
}

func newHourOfTraffic(t *testing.T) *hourOfTraffic {
	t.Helper()
	reg := prometheus.NewRegistry()
	// The metrics the gateway exports, by the names in docs/metrics.md.
	h := &hourOfTraffic{
		clock:     &testClock{},
		reg:       reg,
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_processed_total"}, []string{"topic", "subject"}),
		valid:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_valid_total"}, []string{"topic", "subject"}),
		invalid:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_invalid_total"}, []string{"topic", "subject", "error_type"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "validation_duration_seconds", Buckets: pipeline.LatencyBuckets,
		}, []string{"topic"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kafka_lag"}, []string{"topic", "partition"}),
		gen: demo.NewGenerator(7, 0.2),
	}
	circuit := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "circuit_state"}, []string{"topic"})
	reg.MustRegister(h.processed, h.valid, h.invalid, h.latency, h.lag, circuit)
	circuit.WithLabelValues("raw-events").Set(0)
	circuit.WithLabelValues("clicks-raw").Set(0)
	// The history ends now, so that the page's "ago"s and the charts'
	// times agree with the wall clock.
	end := time.Now().Truncate(live.Resolution)
	h.clock.set(end.Add(-time.Hour))
	var err error
	h.recorder, err = live.NewRecorder(live.RecorderOptions{Gatherer: reg, Now: h.clock.now})
	require.NoError(t, err)
	require.NoError(t, h.recorder.Sample())
	for h.clock.now().Before(end) {
		h.step(t)
	}
	return h
}

// step counts 10 s of traffic and records it.
func (h *hourOfTraffic) step(t *testing.T) {
	t.Helper()
	now := h.clock.now().Add(live.Resolution)
	minutesAgo := time.Since(now).Minutes()
	incident := minutesAgo <= 43 && minutesAgo > 35
	burst := minutesAgo <= 18 && minutesAgo > 12
	// 50 records a second come in, 150 during the burst; the gateway
	// takes up to 100 a second, so a backlog (the lag) builds and drains.
	in := 500
	if burst {
		in = 1500
	}
	h.backlog += float64(in)
	n := int(min(h.backlog, 1000))
	h.backlog -= float64(n)
	by := map[record.ErrorType]int{}
	valid := 0
	for i := range n {
		ev := h.gen.Next(now)
		if incident && ev.Kind.Want == "" && i%3 == 0 {
			by[record.FormatViolation]++ // "yesterday at 9"
			continue
		}
		if ev.Kind.Want == "" {
			valid++
		} else {
			by[ev.Kind.Want]++
		}
	}
	h.count("raw-events", "user_event", valid, by)
	clicks := map[record.ErrorType]int{}
	if int(now.Unix()/10)%4 == 0 {
		clicks[record.TypeMismatch] = 3
	}
	h.count("clicks-raw", "click_event", 97, clicks)
	for i := range 20 {
		h.latency.WithLabelValues("raw-events").Observe(float64(4+i*i) * 1e-6)
	}
	for p := range 6 {
		h.lag.WithLabelValues("raw-events", strconv.Itoa(p)).Set(h.backlog / 6)
	}
	h.lag.WithLabelValues("clicks-raw", "0").Set(float64(int(now.Unix()/10) % 3))
	h.clock.set(now)
	require.NoError(t, h.recorder.Sample())
}

func (h *hourOfTraffic) count(topic, subject string, valid int, invalid map[record.ErrorType]int) {
	n := valid
	for t, k := range invalid {
		h.invalid.WithLabelValues(topic, subject, string(t)).Add(float64(k))
		n += k
	}
	h.processed.WithLabelValues(topic, subject).Add(float64(n))
	h.valid.WithLabelValues(topic, subject).Add(float64(valid))
}

// TestBrowserDashboardHistory: the dashboard draws an hour of history,
// switches ranges and topics, and fetches the new step when the event
// stream says there is one.
func TestBrowserDashboardHistory(t *testing.T) {
	exe := chromiumPath(t)
	traffic := newHourOfTraffic(t)
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })
	quarantineRecent(t, meta, payloads)
	sampler, err := live.New(live.Options{Gatherer: traffic.reg, Recent: meta, Now: traffic.clock.now})
	require.NoError(t, err)
	ui, err := web.New(web.Options{
		Quarantine: meta, Payloads: payloads, Live: sampler, Charts: traffic.recorder,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	t.Cleanup(sampler.Close) // ends the event streams before the server closes
	ctx := browser(t, exe)
	watchPage(t, ctx)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?range=1h"),
		chromedp.WaitVisible(chromedp.ID("history")),
	))
	eventually(t, ctx, `document.getElementById("history").dataset.points`, "360", "an hour of 10 s points")
	require.Equal(t, 4, evalJS[int](t, ctx, `document.querySelectorAll("#history canvas").length`), "four charts")
	require.Equal(t, "1h", evalJS[string](t, ctx, `document.querySelector("#history-ranges a.active").textContent`))
	// The legends show the newest step's figures.
	legend := func(chart string) string {
		return evalJS[string](t, ctx, `document.querySelector("#`+chart+` .u-legend").textContent`)
	}
	require.Regexp(t, `valid\d+quarantined\d+`, legend("chart-throughput"))
	require.Regexp(t, `lag\d`, legend("chart-lag"))
	types := evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#chart-errors .u-legend .u-series:not(:first-child) .u-label")).map(e => e.textContent)`)
	require.Len(t, types, 6, "the demo's six kinds")
	require.Equal(t, "FORMAT_VIOLATION", types[0], "the bad timestamps make it the biggest")
	require.Contains(t, evalJS[string](t, ctx, `document.getElementById("history-note").textContent`), "since it started")
	requireNothingRan(t, ctx)
	screenshot(t, ctx, "dashboard-history")

	// The stream says when a new step is there: the charts fetch it.
	before := evalJS[string](t, ctx, `document.getElementById("history").dataset.loaded`)
	traffic.step(t)
	eventually(t, ctx, `document.getElementById("history").dataset.loaded`,
		strconv.FormatInt(traffic.clock.now().Add(-live.Resolution).Unix(), 10), "the newest step fetched")
	require.NotEqual(t, before, evalJS[string](t, ctx, `document.getElementById("history").dataset.loaded`))

	// Ranges are links; the topic list comes from the history.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#history-ranges a[data-range="6h"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history-ranges a.active[data-range="6h"]`)),
	))
	eventually(t, ctx, `document.getElementById("history").dataset.points`, "360", "6 hours of 1 min points")
	eventually(t, ctx, `Array.from(document.querySelectorAll("#history-topic option")).map(o => o.value).join(",")`,
		",clicks-raw,raw-events", "topics")
	// Choosing a topic opens its page (chromedp's SetValue sends the
	// change event).
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("history-topic"), "clicks-raw")))
	eventually(t, ctx, `location.search`, "?range=6h&topic=clicks-raw", "the topic's page")
	eventually(t, ctx, `Array.from(document.querySelectorAll("#chart-errors .u-legend .u-series:not(:first-child) .u-label")).map(e => e.textContent).join(",")`,
		"TYPE_MISMATCH", "clicks-raw's only error type")
	require.Equal(t, "clicks-raw", evalJS[string](t, ctx, `document.getElementById("history-topic").value`))
	requireNothingRan(t, ctx)
}

// quarantineRecent stores a few of the demo's invalid records, quarantined
// in the last seconds, for the dashboard's "Recently quarantined".
func quarantineRecent(t *testing.T, meta *sqlite.Store, payloads *fs.Store) {
	t.Helper()
	gen := demo.NewGenerator(11, 1)
	var (
		entries []quarantine.Entry
		values  []quarantine.Payload
	)
	now := time.Now()
	fields := map[record.ErrorType]string{
		record.MissingField: "/user_id", record.TypeMismatch: "/user_id", record.PatternMismatch: "/user_id",
		record.EnumViolation: "/event_type", record.FormatViolation: "/timestamp",
	}
	for i := range 10 {
		ev := gen.Next(now)
		entries = append(entries, quarantine.Entry{
			ErrorField: fields[ev.Kind.Want],
			ID:         fmt.Sprintf("rec%02d", i), SourceTopic: "raw-events", SourcePartition: int32(i % 6), SourceOffset: int64(1000 + i),
			Key: ev.Key, QuarantinedAt: now.Add(-time.Duration(10-i) * 700 * time.Millisecond),
			Subject: "user_event", SchemaVersion: 1, ErrorType: ev.Kind.Want,
			Errors: []record.Violation{{Type: ev.Kind.Want, Field: fields[ev.Kind.Want], Message: ev.Kind.Name}}, Status: quarantine.StatusQuarantined,
		})
		values = append(values, quarantine.Payload{Value: ev.Value})
	}
	refs, err := payloads.WriteSegment(context.Background(), "seg-1", values)
	require.NoError(t, err)
	for i := range entries {
		entries[i].Payload, entries[i].PayloadSize = refs[i], len(values[i].Value)
	}
	require.NoError(t, meta.Insert(context.Background(), entries))
}

// watchPage records, from before any of the page's own scripts run, every
// Content-Security-Policy violation and uncaught error in window.__csp and
// window.__errors; requireNothingRan checks both are empty.
func watchPage(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (page.AddScriptToEvaluateOnNewDocumentResult, error) {
		return cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__csp = []; window.__errors = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
window.addEventListener("error", e => window.__errors.push(String(e.message)));`,
		})
	})
	require.NoError(t, err)
}
