package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/live"
)

// chartsRecorder is a live.Recorder over a registry with the pipeline's
// counters, its clock at now; flow counts records on a topic.
type chartsRecorder struct {
	rec              *live.Recorder
	now              time.Time
	processed, valid *prometheus.CounterVec
	invalid          *prometheus.CounterVec
	reg              *prometheus.Registry
}

func newChartsRecorder(t *testing.T) *chartsRecorder {
	t.Helper()
	c := &chartsRecorder{
		reg:       prometheus.NewRegistry(),
		now:       time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_processed_total"}, []string{"topic", "subject"}),
		valid:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_valid_total"}, []string{"topic", "subject"}),
		invalid:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_invalid_total"}, []string{"topic", "subject", "error_type"}),
	}
	c.reg.MustRegister(c.processed, c.valid, c.invalid)
	var err error
	c.rec, err = live.NewRecorder(live.RecorderOptions{Gatherer: c.reg, Now: func() time.Time { return c.now }})
	require.NoError(t, err)
	require.NoError(t, c.rec.Sample())
	return c
}

// step counts n records on topic, bad of them MISSING_FIELD, and records
// the next 10 s.
func (c *chartsRecorder) step(t *testing.T, topic string, n, bad int) {
	t.Helper()
	c.processed.WithLabelValues(topic, "s").Add(float64(n))
	c.valid.WithLabelValues(topic, "s").Add(float64(n - bad))
	c.invalid.WithLabelValues(topic, "s", "MISSING_FIELD").Add(float64(bad))
	c.now = c.now.Add(live.Resolution)
	require.NoError(t, c.rec.Sample())
}

func TestHistoryJSON(t *testing.T) {
	t.Parallel()
	c := newChartsRecorder(t)
	c.step(t, "raw-events", 100, 20)
	c.step(t, "other", 10, 0)
	h, _ := fixture(t, func(o *Options) { o.Charts = c.rec })

	r := get(t, h, HistoryPath+"?range=1h&topic=raw-events")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"), "the API's JSON writer")
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	var got struct {
		Source  string   `json:"source"`
		Range   string   `json:"range"`
		Topic   string   `json:"topic"`
		Topics  []string `json:"topics"`
		Times   []int64  `json:"times"`
		Valid   []any    `json:"valid_per_second"`
		Invalid []any    `json:"invalid_per_second"`
		Types   []struct {
			Type string `json:"type"`
		} `json:"invalid_by_error_type"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &got))
	require.Equal(t, "memory", got.Source)
	require.Equal(t, "1h", got.Range)
	require.Equal(t, "raw-events", got.Topic)
	require.Equal(t, []string{"other", "raw-events"}, got.Topics)
	require.Len(t, got.Times, 360)
	require.Equal(t, []any{nil, 2.0, 0.0}, got.Invalid[len(got.Invalid)-3:], "20 records in the first 10 s, none in the next")
	require.Equal(t, []any{nil, 8.0, 0.0}, got.Valid[len(got.Valid)-3:])
	require.Equal(t, "MISSING_FIELD", got.Types[0].Type)

	// The default range is 15m; all topics.
	r = get(t, h, HistoryPath)
	require.Equal(t, http.StatusOK, r.status)
	require.NoError(t, json.Unmarshal([]byte(r.body), &got))
	require.Equal(t, "15m", got.Range)
	require.Len(t, got.Times, 90)

	for _, bad := range []string{"?range=2m", "?range=%00", "?topic=" + strings.Repeat("t", 250)} {
		r = get(t, h, HistoryPath+bad)
		require.Equal(t, http.StatusBadRequest, r.status, bad)
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &e), "the API's error shape: %s", r.body)
		require.Equal(t, "invalid_parameter", e.Error.Code)
		require.Equal(t, "range must be one of 15m, 1h, 6h, 24h, and topic at most 249 characters", e.Error.Message)
		require.Equal(t, http.StatusBadRequest, get(t, h, "/"+bad).status, "the dashboard refuses it too: %s", bad)
	}
}

// TestHistoryJSONSourceDown: when Prometheus cannot be reached, the charts
// get the reason (502), without a password from the URL.
func TestHistoryJSONSourceDown(t *testing.T) {
	t.Parallel()
	src, err := live.NewPrometheus(live.PrometheusOptions{URL: "http://ana:s3cret@127.0.0.1:1"})
	require.NoError(t, err)
	h, _ := fixture(t, func(o *Options) {
		o.Charts = src
		o.Logger = slog.New(slog.DiscardHandler)
	})
	r := get(t, h, HistoryPath+"?range=6h")
	require.Equal(t, http.StatusBadGateway, r.status)
	require.Contains(t, r.body, `"code":"history_unavailable"`)
	require.Contains(t, r.body, "querying Prometheus at http://ana:xxxxx@127.0.0.1:1")
	require.NotContains(t, r.body, "s3cret")
}

func TestDashboardHistoryCardOnlyWithCharts(t *testing.T) {
	t.Parallel()
	without, _ := fixture(t)
	body := get(t, without, "/").body
	require.NotContains(t, body, `id="history"`)
	require.NotContains(t, body, "uPlot")
	require.Equal(t, http.StatusNotFound, get(t, without, HistoryPath).status)

	c := newChartsRecorder(t)
	with, _ := fixture(t, func(o *Options) { o.Charts = c.rec })
	body = get(t, with, "/?range=6h&topic=%3Cscript%3E").body
	require.Contains(t, body, `<script src="/static/vendor/uPlot.iife.min.js" defer></script>`)
	require.Contains(t, body, `data-range="6h"`)
	require.Contains(t, body, `data-topic="&lt;script&gt;"`)
	require.Contains(t, body, `<a href="/?range=24h&amp;topic=%3cscript%3e" class="" data-range="24h">24h</a>`)
	require.Contains(t, body, `class="active" data-range="6h"`)
	require.Contains(t, body, `data-error-types="PARSE_ERROR,DECODE_ERROR,`)
	require.NotContains(t, body, "<script>")
}

// TestEventsTellTheChartsWhenToFetch: with charts, every update carries
// the newest 10 s step, which moves when a new step can be fetched.
func TestEventsTellTheChartsWhenToFetch(t *testing.T) {
	t.Parallel()
	c := newChartsRecorder(t)
	h, _ := fixture(t, func(o *Options) { o.Charts = c.rec })
	at := time.Date(2026, 11, 3, 10, 0, 7, 0, time.UTC)
	evs, err := h.(*ui).renderEvents(Actions{}, live.Snapshot{At: at})
	require.NoError(t, err)
	last := evs[len(evs)-1]
	require.Equal(t, live.Event{Name: "history", Data: strconv.FormatInt(time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC).Unix(), 10)}, last)
}

// TestLagCardNamesTheWorstPartition: lag is shown once, as the card's
// total and the partition furthest behind.
func TestLagCardNamesTheWorstPartition(t *testing.T) {
	t.Parallel()
	h, _ := fixture(t)
	evs, err := h.(*ui).renderEvents(Actions{}, live.Snapshot{LagTotal: 12, Lag: []live.PartitionLag{
		{Topic: "raw-events", Partition: 0, Lag: 2}, {Topic: "raw-events", Partition: 3, Lag: 10}, {Topic: "x", Partition: 1},
	}})
	require.NoError(t, err)
	require.Equal(t, "counters", evs[0].Name)
	require.Contains(t, evs[0].Data, `id="lag-total">12<`)
	require.Contains(t, evs[0].Data, `id="lag-worst">most on raw-events/3: 10<`)
	for _, ev := range evs {
		require.NotContains(t, ev.Data, "<th>Partition</th>", "no second lag table")
	}
}
