package live

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

// openMetrics collects samples with timestamps as OpenMetrics text: each
// family's series together, each series' samples in time order.
type openMetrics struct {
	families []string
	types    map[string]string
	series   map[string][]string // family -> series keys, in order
	lines    map[string][]string // series key -> sample lines
}

func newOpenMetrics() *openMetrics {
	return &openMetrics{types: map[string]string{}, series: map[string][]string{}, lines: map[string][]string{}}
}

func (o *openMetrics) add(family, typ, name, labels string, v float64, at time.Time) {
	if _, ok := o.types[family]; !ok {
		o.families = append(o.families, family)
		o.types[family] = typ
	}
	key := name + "{" + labels + "}"
	if _, ok := o.lines[key]; !ok {
		o.series[family] = append(o.series[family], key)
	}
	o.lines[key] = append(o.lines[key], key+" "+strconv.FormatFloat(v, 'f', -1, 64)+" "+strconv.FormatInt(at.Unix(), 10))
}

func (o *openMetrics) bytes() []byte {
	var b strings.Builder
	for _, f := range o.families {
		fmt.Fprintf(&b, "# TYPE %s %s\n", f, o.types[f])
		for _, key := range o.series[f] {
			for _, l := range o.lines[key] {
				b.WriteString(l + "\n")
			}
		}
	}
	b.WriteString("# EOF\n")
	return []byte(b.String())
}

// traffic is two hours of a gateway's metrics read every 10 s. The same
// reads feed a Recorder (through a registry, with a test clock) and a real
// Prometheus (as samples loaded into its storage), so both sources can be
// checked against the figures and against each other.
//
// Every 10 s topic a gets 105 records: 85 valid, 15 MISSING_FIELD, 5
// PATTERN_MISMATCH; from the second hour on topic b gets 50, all
// PARSE_ERROR. The lag is 40 + 2 on a's two partitions, 8 on b's.
type traffic struct {
	start, end time.Time
	recorder   *Recorder
	samples    []byte
}

func newTraffic(t *testing.T) *traffic {
	t.Helper()
	// Recent enough for Prometheus' retention; whole hours for clarity.
	start := time.Now().Add(-4 * time.Hour).Truncate(time.Hour)
	tr := &traffic{start: start, end: start.Add(2 * time.Hour)}
	g := newGateway(t)
	c := &clock{t: start}
	tr.recorder = newRecorder(t, g, c)
	om := newOpenMetrics()
	var a, aValid, aMF, aPM, b, bPE float64
	for at := start; !at.After(tr.end); at = at.Add(Resolution) {
		bOn := !at.Before(start.Add(time.Hour))
		if at.After(start) {
			g.processed.WithLabelValues("a", "s").Add(105)
			g.valid.WithLabelValues("a", "s").Add(85)
			g.invalid.WithLabelValues("a", "s", string(record.MissingField)).Add(15)
			g.invalid.WithLabelValues("a", "s", string(record.PatternMismatch)).Add(5)
			a, aValid, aMF, aPM = a+105, aValid+85, aMF+15, aPM+5
			if bOn {
				g.flow("b", 50, 50, record.ParseError)
				b, bPE = b+50, bPE+50
			}
		}
		g.lag.WithLabelValues("a", "0").Set(40)
		g.lag.WithLabelValues("a", "1").Set(2)
		om.add("records_processed", "counter", "records_processed_total", `topic="a",subject="s"`, a, at)
		om.add("records_valid", "counter", "records_valid_total", `topic="a",subject="s"`, aValid, at)
		om.add("records_invalid", "counter", "records_invalid_total", `topic="a",subject="s",error_type="MISSING_FIELD"`, aMF, at)
		om.add("records_invalid", "counter", "records_invalid_total", `topic="a",subject="s",error_type="PATTERN_MISMATCH"`, aPM, at)
		om.add("kafka_lag", "gauge", "kafka_lag", `topic="a",partition="0"`, 40, at)
		om.add("kafka_lag", "gauge", "kafka_lag", `topic="a",partition="1"`, 2, at)
		if bOn {
			g.lag.WithLabelValues("b", "0").Set(8)
			om.add("records_processed", "counter", "records_processed_total", `topic="b",subject="s"`, b, at)
			om.add("records_valid", "counter", "records_valid_total", `topic="b",subject="s"`, 0, at)
			om.add("records_invalid", "counter", "records_invalid_total", `topic="b",subject="s",error_type="PARSE_ERROR"`, bPE, at)
			om.add("kafka_lag", "gauge", "kafka_lag", `topic="b",partition="0"`, 8, at)
		}
		c.t = at
		require.NoError(t, tr.recorder.Sample())
	}
	tr.samples = om.bytes()
	return tr
}

func promHistory(t *testing.T, p *Prometheus, rangeName, topic string) History {
	t.Helper()
	rg, ok := RangeNamed(rangeName)
	require.True(t, ok)
	h, err := p.History(context.Background(), Query{Range: rg, Topic: topic})
	require.NoError(t, err)
	require.Len(t, h.Times, rg.Points())
	return h
}

func requireAll(t *testing.T, want float64, got Points, what string) {
	t.Helper()
	for i, v := range got {
		require.InDelta(t, want, v, 1e-6, "%s[%d]", what, i)
	}
}

// TestPrometheusHistory queries a real Prometheus holding the traffic.
func TestPrometheusHistory(t *testing.T) {
	t.Parallel()
	tr := newTraffic(t)
	srv := testbackend.NewPrometheusServer(t, testbackend.PrometheusOptions{OpenMetrics: tr.samples})
	p, err := NewPrometheus(PrometheusOptions{URL: srv.URL() + "/", Now: func() time.Time { return tr.end }})
	require.NoError(t, err)

	// The last hour of topic a: steady.
	h := promHistory(t, p, "1h", "a")
	require.Equal(t, "prometheus", h.Source)
	require.Equal(t, []string{"a", "b"}, h.Topics)
	require.Equal(t, tr.end.Add(-Resolution).Unix(), h.Times[len(h.Times)-1], "the newest point is the last complete step")
	require.Equal(t, tr.end.Add(-time.Hour).Unix(), h.Times[0])
	requireAll(t, 8.5, h.Valid, "valid")
	requireAll(t, 2, h.Invalid, "invalid")
	requireAll(t, 20.0/105, h.InvalidShare, "share")
	requireAll(t, 42, h.Lag, "lag")
	require.Equal(t, []record.ErrorType{record.MissingField, record.PatternMismatch}, types(h))
	requireAll(t, 1.5, h.InvalidByErrorType[0].PerSecond, "MISSING_FIELD")
	requireAll(t, 0.5, h.InvalidByErrorType[1].PerSecond, "PATTERN_MISMATCH")

	// Every topic: b's records and lag add up, once its rate has a full
	// window (the first minute of its hour is left out).
	all := promHistory(t, p, "1h", "")
	n := len(all.Times)
	requirePoints(t, []float64{8.5, 8.5}, tail(all.Valid, 2), "valid, all")
	requirePoints(t, []float64{7, 7}, tail(all.Invalid, 2), "invalid, all")
	requirePoints(t, []float64{70.0 / 155}, tail(all.InvalidShare, 1), "share, all")
	requirePoints(t, []float64{50}, tail(all.Lag, 1), "lag, all")
	require.Equal(t, []record.ErrorType{record.ParseError, record.MissingField, record.PatternMismatch}, types(all))

	// The two sources agree, step by step, wherever both have a full
	// window: the recorder's own figures are the same as Prometheus'.
	mem := history(t, tr.recorder, "1h", "")
	require.Equal(t, all.Times, mem.Times)
	for i := 6; i < n; i++ {
		for _, c := range []struct {
			name      string
			prom, mem Points
		}{{"valid", all.Valid, mem.Valid}, {"invalid", all.Invalid, mem.Invalid}, {"share", all.InvalidShare, mem.InvalidShare}, {"lag", all.Lag, mem.Lag}} {
			require.InDelta(t, c.mem[i], c.prom[i], 1e-6, "%s at step %d", c.name, i)
		}
	}

	// A day at 5 min steps: nothing before the traffic, then the rates.
	day := promHistory(t, p, "24h", "a")
	require.InDelta(t, 300.0, day.StepSeconds, 0)
	require.True(t, math.IsNaN(day.Valid[0]), "no data a day ago")
	requirePoints(t, []float64{8.5, 8.5}, tail(day.Valid, 2), "valid per 5 min step")
	requirePoints(t, []float64{42}, tail(day.Lag, 1), "lag per 5 min step")
}

func TestPrometheusErrors(t *testing.T) {
	t.Parallel()
	rg, _ := RangeNamed("15m")
	q := Query{Range: rg}

	for _, bad := range []string{"", "localhost:9090", "ftp://x", "http://"} {
		_, err := NewPrometheus(PrometheusOptions{URL: bad})
		require.Error(t, err, bad)
	}
	_, err := NewPrometheus(PrometheusOptions{URL: "http://user:s3cret@[::1"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")

	// Nothing listens: the error names the server, not its password.
	ln := httptest.NewServer(http.NotFoundHandler())
	addr := ln.Listener.Addr().String()
	ln.Close()
	p, err := NewPrometheus(PrometheusOptions{URL: "http://ana:s3cret@" + addr})
	require.NoError(t, err)
	_, err = p.History(context.Background(), q)
	require.ErrorContains(t, err, "querying Prometheus at http://ana:xxxxx@"+addr)
	require.NotContains(t, err.Error(), "s3cret")

	// Servers that are not Prometheus, or answer badly.
	for name, c := range map[string]struct {
		status int
		body   string
		want   string
	}{
		"not the API":     {http.StatusNotFound, "404 page not found", "no API answer"},
		"refused":         {http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"parse error"}`, "bad_data: parse error"},
		"not a matrix":    {http.StatusOK, `{"status":"success","data":{"resultType":"vector","result":[]}}`, `"vector", not a matrix`},
		"bad sample":      {http.StatusOK, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}`, "malformed sample"},
		"sample not pair": {http.StatusOK, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["1",2]]}]}}`, "malformed sample"},
		"huge":            {http.StatusOK, `{"status":"success","data":{"resultType":"matrix","result":[` + strings.Repeat(" ", maxPrometheusAnswer) + `]}}`, "more than"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			require.Equal(t, "/prefix/api/v1/query_range", r.URL.Path)
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(c.body))
		}))
		p, err := NewPrometheus(PrometheusOptions{URL: srv.URL + "/prefix"})
		require.NoError(t, err)
		_, err = p.History(context.Background(), q)
		require.ErrorContains(t, err, c.want, name)
		srv.Close()
	}
}
