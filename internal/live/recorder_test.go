package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

func TestErrorTypeCount(t *testing.T) {
	t.Parallel()
	require.Len(t, record.ErrorTypes, numErrorTypes)
}

func newRecorder(t *testing.T, g *gateway, c *clock) *Recorder {
	t.Helper()
	r, err := NewRecorder(RecorderOptions{Gatherer: g.reg, Now: c.now})
	require.NoError(t, err)
	return r
}

func history(t *testing.T, r *Recorder, rangeName, topic string) History {
	t.Helper()
	rg, ok := RangeNamed(rangeName)
	require.True(t, ok)
	h, err := r.History(context.Background(), Query{Range: rg, Topic: topic})
	require.NoError(t, err)
	require.Len(t, h.Times, rg.Points())
	for _, p := range []Points{h.Valid, h.Invalid, h.InvalidShare, h.Lag} {
		require.Len(t, p, rg.Points())
	}
	return h
}

// tail returns the last n points of p.
func tail(p Points, n int) []float64 { return p[len(p)-n:] }

var nanv = math.NaN()

// requirePoints compares points, NaN equal to NaN.
func requirePoints(t *testing.T, want []float64, got []float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if math.IsNaN(want[i]) {
			require.True(t, math.IsNaN(got[i]), "%s[%d]: got %v, want no data", what, i, got[i])
			continue
		}
		require.InDelta(t, want[i], got[i], 1e-9, "%s[%d]", what, i)
	}
}

func TestRecorderRatesShareAndLagPerTopic(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	r := newRecorder(t, g, c)

	// Traffic before the first read is not a rate of any step.
	g.flow("a", 500, 0, "")
	g.lag.WithLabelValues("a", "0").Set(7)
	require.NoError(t, r.Sample())
	// Step 10:00:00-10:00:10 (with the first read's lag): a gets 100
	// records, 20 invalid; b starts.
	g.flow("a", 100, 15, record.MissingField)
	g.invalid.WithLabelValues("a", "s", string(record.PatternMismatch)).Add(5)
	g.flow("b", 50, 50, record.ParseError)
	g.lag.WithLabelValues("a", "1").Set(3)
	c.advance(10 * time.Second)
	require.NoError(t, r.Sample())
	// Step 10:00:10-10:00:20: nothing flows; the lag falls.
	g.lag.WithLabelValues("a", "0").Set(0)
	g.lag.WithLabelValues("a", "1").Set(0)
	c.advance(10 * time.Second)
	require.NoError(t, r.Sample())

	h := history(t, r, "15m", "a")
	require.Equal(t, "memory", h.Source)
	require.Equal(t, []string{"a", "b"}, h.Topics)
	require.InDelta(t, 10.0, h.StepSeconds, 0)
	// The newest step is the one that just ended; the first read made the
	// step before it, with a lag and no rate.
	start := c.t.Add(-10 * time.Second).Unix()
	require.Equal(t, []int64{start - 20, start - 10, start}, h.Times[len(h.Times)-3:])
	requirePoints(t, []float64{nanv, nanv, 8.5, 0}, tail(h.Valid, 4), "valid")
	requirePoints(t, []float64{nanv, nanv, 2, 0}, tail(h.Invalid, 4), "invalid")
	requirePoints(t, []float64{nanv, nanv, 0.2, nanv}, tail(h.InvalidShare, 4), "share (none without records)")
	requirePoints(t, []float64{nanv, nanv, 10, 0}, tail(h.Lag, 4), "lag: the highest read of the step (7, then 7+3), partitions summed")
	require.Equal(t, []record.ErrorType{record.MissingField, record.PatternMismatch}, types(h))
	requirePoints(t, []float64{nanv, 1.5, 0}, tail(h.InvalidByErrorType[0].PerSecond, 3), "MISSING_FIELD")
	requirePoints(t, []float64{nanv, 0.5, 0}, tail(h.InvalidByErrorType[1].PerSecond, 3), "PATTERN_MISMATCH")

	all := history(t, r, "15m", "")
	requirePoints(t, []float64{8.5, 0}, tail(all.Valid, 2), "valid, all topics")
	requirePoints(t, []float64{7, 0}, tail(all.Invalid, 2), "invalid, all topics")
	requirePoints(t, []float64{70.0 / 150, nanv}, tail(all.InvalidShare, 2), "share, all topics")
	require.Equal(t, []record.ErrorType{record.ParseError, record.MissingField, record.PatternMismatch}, types(all))

	none := history(t, r, "15m", "nope")
	requirePoints(t, []float64{nanv, nanv}, tail(none.Valid, 2), "an unknown topic has no data")
}

func types(h History) []record.ErrorType {
	var out []record.ErrorType
	for _, s := range h.InvalidByErrorType {
		out = append(out, s.Type)
	}
	return out
}

// TestRecorderCoarserSteps: the 1 min and 5 min steps add up the 10 s reads
// that fall in them, and a step still filling shows its rate so far.
func TestRecorderCoarserSteps(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock() // 10:00:00
	r := newRecorder(t, g, c)
	require.NoError(t, r.Sample())
	// Seven minutes at 10 records per 10 s, 1 of them invalid, then one
	// minute at 60 per 10 s.
	for i := range 48 {
		n := 10
		if i >= 42 {
			n = 60
		}
		g.flow("a", n, n/10, record.EnumViolation)
		c.advance(10 * time.Second)
		require.NoError(t, r.Sample())
	}
	// 10:08:00: the 1 min steps up to 10:07 are complete.
	h := history(t, r, "6h", "a")
	require.InDelta(t, 60.0, h.StepSeconds, 0)
	require.Equal(t, time.Date(2026, 11, 3, 10, 7, 0, 0, time.UTC).Unix(), h.Times[len(h.Times)-1])
	requirePoints(t, []float64{nanv, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 5.4}, tail(h.Valid, 9), "valid per minute step")
	requirePoints(t, []float64{0.1, 0.6}, tail(h.Invalid, 2), "invalid")

	// 24h: one 5 min step complete (10:00-10:05), and the current one
	// (10:05-10:08) so far.
	d := history(t, r, "24h", "a")
	require.InDelta(t, 300.0, d.StepSeconds, 0)
	requirePoints(t, []float64{nanv, 0.9, (12*9 + 6*54) / 180.0}, tail(d.Valid, 3), "valid per 5 min step")
}

// TestRecorderMemoryIsFixed: a day and more of reads leaves the rings as
// they were made, holding only the last hour, 6 hours and 24 hours.
func TestRecorderMemoryIsFixed(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	r := newRecorder(t, g, c)
	require.NoError(t, r.Sample())
	sizes := func() []int {
		var out []int
		for _, rg := range *r.topics["a"] {
			out = append(out, len(rg.slots), cap(rg.slots))
		}
		return out
	}
	g.flow("a", 1, 0, "")
	c.advance(Resolution)
	require.NoError(t, r.Sample())
	before := sizes()
	require.Equal(t, []int{360, 360, 360, 360, 288, 288}, before)
	// 25 hours, the first hour busy, the rest idle.
	for i := range 25 * 360 {
		if i < 360 {
			g.flow("a", 10, 0, "")
		}
		c.advance(Resolution)
		require.NoError(t, r.Sample())
	}
	require.Equal(t, before, sizes())
	for _, name := range []string{"15m", "1h", "6h", "24h"} {
		h := history(t, r, name, "a")
		for i, v := range h.Valid {
			require.False(t, math.IsNaN(v), "%s: step %d has data", name, i)
			require.Zero(t, v, "%s: the busy hour is more than a day ago", name)
		}
	}
}

func TestRecorderCounterReset(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	r := newRecorder(t, g, c)
	g.flow("a", 100, 0, "")
	require.NoError(t, r.Sample())
	// A registry that starts over (the counter went down): its value is
	// what came since, as PromQL's increase() counts it.
	g.reg.Unregister(g.processed)
	g.reg.Unregister(g.valid)
	g.processed.Reset()
	g.valid.Reset()
	g.reg.MustRegister(g.processed, g.valid)
	g.flow("a", 30, 0, "")
	c.advance(Resolution)
	require.NoError(t, r.Sample())
	requirePoints(t, []float64{3}, tail(history(t, r, "15m", "a").Valid, 1), "valid after a reset")
}

// TestRecorderStalled: when reads stop, the history still ends now, with
// no data for the steps not read.
func TestRecorderStalled(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	r := newRecorder(t, g, c)
	require.NoError(t, r.Sample())
	g.flow("a", 10, 0, "")
	c.advance(Resolution)
	require.NoError(t, r.Sample())
	c.advance(time.Minute)
	h := history(t, r, "15m", "a")
	require.Equal(t, c.t.Add(-Resolution).Unix(), h.Times[len(h.Times)-1])
	requirePoints(t, []float64{1, nanv, nanv, nanv, nanv, nanv, nanv}, tail(h.Valid, 7), "valid")

	// A clock that goes back adds nothing.
	c.advance(-2 * time.Minute)
	require.NoError(t, r.Sample())
	c.advance(2 * time.Minute)
	requirePoints(t, tail(h.Valid, 7), tail(history(t, r, "15m", "a").Valid, 7), "unchanged")
}

func TestRecorderMaxTopics(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	r, err := NewRecorder(RecorderOptions{Gatherer: g.reg, Now: c.now, MaxTopics: 2, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	for _, topic := range []string{"a", "b", "c"} {
		g.flow(topic, 1, 0, "")
	}
	require.NoError(t, r.Sample())
	require.Len(t, r.topics, 2)
	require.Len(t, history(t, r, "1h", "").Topics, 2)
}

func TestPointsJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(History{Valid: Points{1.23456, math.NaN(), 0, 1e6, math.Inf(1)}})
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, []any{1.235, nil, 0.0, 1e6, nil}, got["valid_per_second"])
}

func TestRecorderRejectsUnknownStep(t *testing.T) {
	t.Parallel()
	r := newRecorder(t, newGateway(t), newClock())
	_, err := r.History(context.Background(), Query{Range: Range{Name: "x", Span: time.Hour, Step: 7 * time.Second}})
	require.Error(t, err)
}

// TestRecorderRun: Run reads at once, and returns when its context ends.
func TestRecorderRun(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	g.lag.WithLabelValues("a", "0").Set(4)
	r, err := NewRecorder(RecorderOptions{Gatherer: g.reg})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	testwait.For(t, 5*time.Second, "a first read", func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.prevAt.IsZero() {
			return errors.New("none yet")
		}
		return nil
	})
	cancel()
	require.NoError(t, <-done)
}

// TestRecorderFirstRead: one read gives the lag, and no rate yet.
func TestRecorderFirstRead(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	g.flow("a", 100, 10, record.ParseError)
	g.lag.WithLabelValues("a", "0").Set(7)
	r := newRecorder(t, g, c)
	require.NoError(t, r.Sample())
	h := history(t, r, "15m", "a")
	require.Equal(t, c.t.Unix(), h.Times[len(h.Times)-1])
	requirePoints(t, []float64{nanv, 7}, tail(h.Lag, 2), "lag")
	requirePoints(t, []float64{nanv, nanv}, tail(h.Valid, 2), "valid")
	require.Empty(t, h.InvalidByErrorType)
}
