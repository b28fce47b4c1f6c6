package live

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Range is a span of history the dashboard shows, and the time between two
// of its points.
type Range struct {
	// Name is how the dashboard and its URL name it: "15m", "1h"...
	Name string
	Span time.Duration
	Step time.Duration
}

// Points returns how many points a Query over r has.
func (r Range) Points() int { return int(r.Span / r.Step) }

// Ranges are the ranges the dashboard offers, shortest first. Their steps
// are the resolutions the Recorder keeps: 10 s for the last hour, 1 min for
// the last 6 hours, 5 min for the last 24 hours.
var Ranges = []Range{
	{Name: "15m", Span: 15 * time.Minute, Step: Resolution},
	{Name: "1h", Span: time.Hour, Step: Resolution},
	{Name: "6h", Span: 6 * time.Hour, Step: time.Minute},
	{Name: "24h", Span: 24 * time.Hour, Step: 5 * time.Minute},
}

// RangeNamed returns the range of Ranges named name.
func RangeNamed(name string) (Range, bool) {
	for _, r := range Ranges {
		if r.Name == name {
			return r, true
		}
	}
	return Range{}, false
}

// Query asks for the history of one input topic, or of all of them.
type Query struct {
	// Range is one of Ranges.
	Range Range
	// Topic is an input topic; "" sums every topic.
	Topic string
}

// HistorySource answers history queries; *Recorder (this process's own
// history) and *Prometheus (a Prometheus server's) are two.
type HistorySource interface {
	History(ctx context.Context, q Query) (History, error)
}

// History is the time series of one Query: one value per step of its
// range, oldest first. A step with no data (before the gateway started, or
// with no record to take a share of) is NaN, null in JSON.
type History struct {
	// Source says where the figures come from: "memory" (this process,
	// since it started) or "prometheus" (every gateway Prometheus scrapes).
	Source      string  `json:"source"`
	Range       string  `json:"range"`
	StepSeconds float64 `json:"step_seconds"`
	// Topic is the topic asked for, "" for all.
	Topic string `json:"topic"`
	// Topics are the input topics there is history of, sorted.
	Topics []string `json:"topics"`
	// Times are the start of each step, in Unix seconds.
	Times []int64 `json:"times"`
	// Valid and Invalid are records per second over each step.
	Valid   Points `json:"valid_per_second"`
	Invalid Points `json:"invalid_per_second"`
	// InvalidShare is invalid / processed over each step, 0 to 1.
	InvalidShare Points `json:"invalid_share"`
	// InvalidByErrorType are the records quarantined per second by primary
	// error type: the types with any record in the range, the most
	// frequent first.
	InvalidByErrorType []TypeSeries `json:"invalid_by_error_type"`
	// Lag is the consumer lag in records, the highest seen in each step.
	Lag Points `json:"lag"`
}

// TypeSeries is one error type's rate over a range.
type TypeSeries struct {
	Type      record.ErrorType `json:"type"`
	PerSecond Points           `json:"per_second"`
}

// Points are the values of a series; NaN is a step without data.
type Points []float64

// MarshalJSON writes NaN as null and rounds to three decimals: rates,
// shares and lags need no more, and a day of points stays small.
func (p Points) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+8*len(p))
	b = append(b, '[')
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, math.Round(v*1000)/1000, 'f', -1, 64)
	}
	return append(b, ']'), nil
}

// nan returns n NaN points.
func nan(n int) Points {
	p := make(Points, n)
	for i := range p {
		p[i] = math.NaN()
	}
	return p
}

// errorTypeIndex is each known error type's place in record.ErrorTypes.
var errorTypeIndex = func() map[record.ErrorType]int {
	m := make(map[record.ErrorType]int, len(record.ErrorTypes))
	for i, t := range record.ErrorTypes {
		m[t] = i
	}
	return m
}()

// numErrorTypes is len(record.ErrorTypes), a constant for the Recorder's
// fixed-size slots (TestErrorTypeCount keeps them equal).
const numErrorTypes = 15
