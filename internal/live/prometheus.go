package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// PrometheusOptions configure a Prometheus history source.
type PrometheusOptions struct {
	// URL is the Prometheus server's base URL, http(s)://host:port with any
	// path prefix it is served under (its API is URL + /api/v1/...).
	// Required.
	URL string
	// Client sends the queries. Default: an http.Client with a 15 s
	// timeout.
	Client *http.Client
	// Now is the clock. Default time.Now; tests set it.
	Now func() time.Time
}

// Prometheus reads the history from a Prometheus server that scrapes the
// gateways, with its range-query API (/api/v1/query_range): the figures of
// every gateway it scrapes, summed, over as long as it keeps them. Rates are
// PromQL's rate() over the step, or 1 min when the step is shorter, so
// scrapes up to 15 s apart give every step a rate. It is safe for
// concurrent use.
type Prometheus struct {
	base   *url.URL
	client *http.Client
	now    func() time.Time
}

// maxPrometheusAnswer bounds one answer of Prometheus (a day of a few
// series is a few hundred KB).
const maxPrometheusAnswer = 32 << 20

// NewPrometheus returns a Prometheus history source.
func NewPrometheus(opts PrometheusOptions) (*Prometheus, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("live: Prometheus URL %q: must be http(s)://host[:port][/prefix]", redactURL(opts.URL))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 15 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Prometheus{base: u, client: opts.Client, now: opts.Now}, nil
}

// redactURL hides a password in a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// series is one series of a range query's matrix.
type series struct {
	labels map[string]string
	values map[int64]float64 // by evaluation time, Unix seconds
}

// History implements HistorySource. Each step's point is the query
// evaluated at the step's end, so the newest point is the last complete
// step.
func (p *Prometheus) History(ctx context.Context, q Query) (History, error) {
	step := int64(q.Range.Step / time.Second)
	n := q.Range.Points()
	if step <= 0 || n <= 0 {
		return History{}, fmt.Errorf("live: no history at a %s step", q.Range.Step)
	}
	window := max(q.Range.Step, time.Minute)
	w := strconv.FormatInt(int64(window/time.Second), 10) + "s"
	end := p.now().Unix() / step * step // evaluation time of the newest point
	start := end - int64(n-1)*step
	queries := []string{
		`sum by (topic) (rate(` + metricValid + `[` + w + `]))`,
		`sum by (topic) (rate(` + metricProcessed + `[` + w + `]))`,
		`sum by (topic, error_type) (rate(` + metricInvalid + `[` + w + `]))`,
		`sum by (topic) (max_over_time(` + metricLag + `[` + w + `]))`,
	}
	results := make([][]series, len(queries))
	for i, expr := range queries {
		var err error
		if results[i], err = p.queryRange(ctx, expr, start, end, step); err != nil {
			return History{}, err
		}
	}
	h := History{
		Source: "prometheus", Range: q.Range.Name, StepSeconds: float64(step), Topic: q.Topic,
		Topics: []string{}, Times: make([]int64, n),
		Valid: nan(n), Invalid: nan(n), InvalidShare: nan(n), Lag: nan(n),
		InvalidByErrorType: []TypeSeries{},
	}
	for i := range h.Times {
		h.Times[i] = start + int64(i)*step - step
	}
	topics := map[string]bool{}
	// sum adds the values of the selected topics' series into dst, one
	// per step; a step none of them has stays NaN.
	sum := func(dst Points, ss []series) {
		for _, s := range ss {
			topic := s.labels["topic"]
			topics[topic] = true
			if q.Topic != "" && topic != q.Topic {
				continue
			}
			for i := range dst {
				v, ok := s.values[start+int64(i)*step]
				if !ok || math.IsNaN(v) {
					continue
				}
				if math.IsNaN(dst[i]) {
					dst[i] = 0
				}
				dst[i] += v
			}
		}
	}
	processed := nan(n)
	sum(h.Valid, results[0])
	sum(processed, results[1])
	sum(h.Lag, results[3])
	byType := map[record.ErrorType][]series{}
	for _, s := range results[2] {
		t := record.ErrorType(s.labels["error_type"])
		byType[t] = append(byType[t], s)
	}
	totals := map[record.ErrorType]float64{}
	for t, ss := range byType {
		pts := nan(n)
		sum(pts, ss)
		sum(h.Invalid, ss)
		for _, v := range pts {
			if !math.IsNaN(v) {
				totals[t] += v
			}
		}
		if totals[t] > 0 {
			h.InvalidByErrorType = append(h.InvalidByErrorType, TypeSeries{Type: t, PerSecond: pts})
		}
	}
	sort.Slice(h.InvalidByErrorType, func(a, b int) bool {
		ta, tb := h.InvalidByErrorType[a].Type, h.InvalidByErrorType[b].Type
		if totals[ta] != totals[tb] {
			return totals[ta] > totals[tb]
		}
		return ta < tb
	})
	for i := range n {
		// A step where records flowed and none was invalid has no
		// records_invalid_total series moving: 0, not "no data".
		if math.IsNaN(h.Invalid[i]) && !math.IsNaN(processed[i]) {
			h.Invalid[i] = 0
		}
		if processed[i] > 0 {
			h.InvalidShare[i] = h.Invalid[i] / processed[i]
		}
	}
	for t := range topics {
		if t != "" {
			h.Topics = append(h.Topics, t)
		}
	}
	sort.Strings(h.Topics)
	return h, nil
}

// queryRange runs one range query and returns its matrix.
func (p *Prometheus) queryRange(ctx context.Context, expr string, start, end, step int64) ([]series, error) {
	u := *p.base
	u.Path += "/api/v1/query_range"
	u.RawQuery = url.Values{
		"query": {expr},
		"start": {strconv.FormatInt(start, 10)},
		"end":   {strconv.FormatInt(end, 10)},
		"step":  {strconv.FormatInt(step, 10)},
	}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus at %s: %w", p.base.Redacted(), err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may hold a password
		}
		return nil, fmt.Errorf("querying Prometheus at %s: %w", p.base.Redacted(), err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPrometheusAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("reading Prometheus' answer from %s: %w", p.base.Redacted(), err)
	}
	if len(body) > maxPrometheusAnswer {
		return nil, fmt.Errorf("prometheus at %s answered %s with more than %d bytes", p.base.Redacted(), expr, maxPrometheusAnswer)
	}
	var a struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("prometheus at %s answered %s (HTTP %d) with no API answer: %w", p.base.Redacted(), expr, resp.StatusCode, err)
	}
	if a.Status != "success" {
		return nil, fmt.Errorf("prometheus at %s refused %s (HTTP %d): %s: %s", p.base.Redacted(), expr, resp.StatusCode, a.ErrorType, a.Error)
	}
	if a.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("prometheus at %s answered %s with a %q, not a matrix", p.base.Redacted(), expr, a.Data.ResultType)
	}
	out := make([]series, 0, len(a.Data.Result))
	for _, r := range a.Data.Result {
		s := series{labels: r.Metric, values: make(map[int64]float64, len(r.Values))}
		for _, pair := range r.Values {
			ts, ok1 := pair[0].(float64)
			vs, ok2 := pair[1].(string)
			v, err := strconv.ParseFloat(vs, 64)
			if !ok1 || !ok2 || err != nil {
				return nil, fmt.Errorf("prometheus at %s answered %s with a malformed sample %v", p.base.Redacted(), expr, pair)
			}
			s.values[int64(math.Round(ts))] = v
		}
		out = append(out, s)
	}
	return out, nil
}
