package shadow_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	require.Equal(t, shadow.AgreePass, shadow.Classify(true, true))
	require.Equal(t, shadow.AgreeFail, shadow.Classify(false, false))
	require.Equal(t, shadow.NewlyRejected, shadow.Classify(true, false))
	require.Equal(t, shadow.NewlyAccepted, shadow.Classify(false, true))
}

// TestSampled: the pick is a function of the record's coordinates alone
// (the same on every call), takes about the share asked for, and a record
// picked at a share is picked at every larger one.
func TestSampled(t *testing.T) {
	t.Parallel()
	const n = 20000
	for _, f := range []float64{0.01, 0.1, 0.3, 0.5, 0.9} {
		picked := 0
		for off := range int64(n) {
			p := shadow.Sampled(f, "raw-events", int32(off%6), off)
			require.Equal(t, p, shadow.Sampled(f, "raw-events", int32(off%6), off), "deterministic")
			if p {
				picked++
				require.True(t, shadow.Sampled(min(1, f+0.05), "raw-events", int32(off%6), off), "monotone in the share")
			}
		}
		require.InDelta(t, f, float64(picked)/n, 0.015, "share %v", f)
	}
	require.True(t, shadow.Sampled(1, "t", 0, 42))
	require.False(t, shadow.Sampled(0, "t", 0, 42))
	nan := 0.0
	require.False(t, shadow.Sampled(nan/nan, "t", 0, 42))
	// Another topic picks other records.
	same := 0
	for off := range int64(1000) {
		if shadow.Sampled(0.5, "a", 0, off) == shadow.Sampled(0.5, "b", 0, off) {
			same++
		}
	}
	require.InDelta(t, 500, same, 100)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTally(t *testing.T, c *clock) (*shadow.Tally, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	tl, err := shadow.New(shadow.Options{Sample: 1, Registerer: reg, Now: c.now})
	require.NoError(t, err)
	return tl, reg
}

func missing(field string) record.Violation {
	return record.Violation{Type: record.MissingField, Field: field, Keyword: "required", Message: "missing " + field}
}

// observed is a record with today's verdict (nil: valid) and v2's.
func observed(offset int64, today, v2 []record.Violation) shadow.Observed {
	return shadow.Observed{
		Topic: "raw-orders", Partition: 1, Offset: offset,
		Key: []byte("k"), Value: []byte(fmt.Sprintf(`{"n":%d}`, offset)),
		Stored:  len(today) > 0,
		Verdict: &record.Verdict{Subject: "orders", Version: 1, Violations: today, Shadow: []record.ShadowVerdict{{Subject: "orders", Version: 2, Violations: v2}}},
	}
}

// TestTally: a known mix counted exactly, in the metric, the recent window
// and the total; newly rejected records counted once per error they have;
// samples newest first, bounded, copied; and the window forgetting what
// is older than it while the total keeps it.
func TestTally(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 11, 20, 12, 0, 30, 0, time.UTC)}
	tl, reg := newTally(t, c)
	typeErr := record.Violation{Type: record.TypeMismatch, Field: "/id", Keyword: "type", Message: "want integer"}
	var batch []shadow.Observed
	for i := range int64(100) {
		switch {
		case i < 70:
			batch = append(batch, observed(i, nil, nil))
		case i < 80:
			batch = append(batch, observed(i, []record.Violation{typeErr}, []record.Violation{typeErr}))
		case i < 95: // 15 newly rejected, 5 of them with two errors
			v2 := []record.Violation{missing("/sku")}
			if i >= 90 {
				v2 = append(v2, typeErr, missing("/sku")) // a repeated error counts once
			}
			batch = append(batch, observed(i, nil, v2))
		default:
			batch = append(batch, observed(i, []record.Violation{typeErr}, nil))
		}
	}
	tl.Record(batch)
	batch[99].Value[0] = 'X' // the batch's buffers are reused: samples keep copies

	reports := tl.Report("orders", time.Hour)
	require.Len(t, reports, 1)
	r := reports[0]
	require.Equal(t, 2, r.Version)
	require.Equal(t, c.t, r.Since)
	require.Equal(t, time.Hour, r.Window)
	want := shadow.Counts{AgreePass: 70, AgreeFail: 10, NewlyRejected: 15, NewlyAccepted: 5, NewlyRejectedBy: []shadow.ErrorCount{
		{Type: record.MissingField, Field: "/sku", Records: 15},
		{Type: record.TypeMismatch, Field: "/id", Records: 5},
	}}
	require.Equal(t, want, r.Recent)
	require.Equal(t, want, r.Total)
	require.Equal(t, int64(100), r.Recent.Seen())
	require.InDelta(t, 0.15, r.Recent.NewlyRejectedShare(), 1e-12)
	for o, n := range map[shadow.Outcome]float64{shadow.AgreePass: 70, shadow.AgreeFail: 10, shadow.NewlyRejected: 15, shadow.NewlyAccepted: 5} {
		require.Equal(t, n, series(t, reg, "orders", "2", o), "metric %s", o)
	}

	rej := r.Samples[shadow.NewlyRejected]
	require.Len(t, rej, shadow.SamplesPerOutcome)
	require.Equal(t, int64(94), rej[0].Offset, "newest first")
	require.Equal(t, int64(85), rej[9].Offset)
	require.Equal(t, record.ID("raw-orders", 1, 94), rej[0].ID)
	require.False(t, rej[0].Stored, "accepted today: no row")
	require.Empty(t, rej[0].Enforced)
	require.Len(t, rej[0].Candidate, 3)
	acc := r.Samples[shadow.NewlyAccepted]
	require.Len(t, acc, 5)
	require.True(t, acc[0].Stored)
	require.Equal(t, `{"n":99}`, string(acc[0].Value), "a copy")
	require.Equal(t, []record.Violation{typeErr}, acc[0].Enforced)

	// Ten minutes on, another batch; the last 5 minutes hold only it.
	c.t = c.t.Add(10 * time.Minute)
	tl.Record([]shadow.Observed{observed(100, nil, []record.Violation{missing("/sku")})})
	r = tl.Report("orders", 5*time.Minute)[0]
	require.Equal(t, 5*time.Minute, r.Window)
	require.Equal(t, shadow.Counts{NewlyRejected: 1, NewlyRejectedBy: []shadow.ErrorCount{{Type: record.MissingField, Field: "/sku", Records: 1}}}, r.Recent)
	require.Equal(t, int64(101), r.Total.Seen())
	require.Equal(t, int64(101), tl.Report("orders", 0)[0].Recent.Seen(), "window 0 is the longest")
	rej = r.Samples[shadow.NewlyRejected]
	require.Len(t, rej, shadow.SamplesPerOutcome)
	require.Equal(t, []int64{100, 94, 93}, []int64{rej[0].Offset, rej[1].Offset, rej[2].Offset}, "the ring spans batches, newest first")
	// An hour and more later the window is empty; the total is not.
	c.t = c.t.Add(61 * time.Minute)
	r = tl.Report("orders", time.Hour)[0]
	require.Zero(t, r.Recent.Seen())
	require.Equal(t, int64(101), r.Total.Seen())
	require.Empty(t, tl.Report("other", time.Hour))
}

// series reads one series of schema_shadow_verdicts_total.
func series(t *testing.T, reg *prometheus.Registry, subject, version string, o shadow.Outcome) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "schema_shadow_verdicts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["subject"] == subject && labels["version"] == version && labels["outcome"] == string(o) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s/%s/%s", subject, version, o)
	return 0
}

// TestTallyBounds: hostile traffic (a new field name in every record,
// huge values and messages) keeps the tally bounded: fields past the bound
// are lumped under OtherFields, samples are cut.
func TestTallyBounds(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	tl, _ := newTally(t, c)
	var batch []shadow.Observed
	for i := range int64(1000) {
		ob := observed(i, nil, []record.Violation{{Type: record.UnknownField, Field: fmt.Sprintf("/f%d", i), Message: strings.Repeat("é", 1000)}})
		ob.Value = make([]byte, 1<<20)
		batch = append(batch, ob)
	}
	tl.Record(batch)
	r := tl.Report("orders", time.Hour)[0]
	require.Len(t, r.Recent.NewlyRejectedBy, 64+1)
	require.Len(t, r.Total.NewlyRejectedBy, 256+1)
	require.Equal(t, shadow.ErrorCount{Type: record.UnknownField, Field: shadow.OtherFields, Records: 1000 - 256}, r.Total.NewlyRejectedBy[0])
	s := r.Samples[shadow.NewlyRejected][0]
	require.Len(t, s.Value, shadow.MaxSampleBytes)
	require.Equal(t, 1<<20, s.ValueSize)
	require.LessOrEqual(t, len(s.Candidate[0].Message), 512+len("…"))
	require.True(t, strings.HasSuffix(s.Candidate[0].Message, "é…"), "cut on a rune boundary")
}

// TestTallyTrack: a version that leaves shadow is forgotten; coming back,
// it starts afresh. Other subjects are untouched.
func TestTallyTrack(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	tl, _ := newTally(t, c)
	other := observed(1, nil, nil)
	other.Verdict.Shadow[0].Subject = "payments"
	tl.Record([]shadow.Observed{observed(0, nil, nil), other})
	tl.Track("orders", []int{3})
	require.Empty(t, tl.Report("orders", 0))
	require.Len(t, tl.Report("payments", 0), 1)
	c.t = c.t.Add(time.Minute)
	tl.Record([]shadow.Observed{observed(2, nil, nil)})
	r := tl.Report("orders", 0)[0]
	require.Equal(t, int64(1), r.Total.Seen())
	require.Equal(t, c.t, r.Since)
}

func TestGuard(t *testing.T) {
	t.Parallel()
	r := shadow.Report{Subject: "orders", Version: 2, Window: time.Hour, Recent: shadow.Counts{
		AgreePass: 12458, NewlyRejected: 412,
		NewlyRejectedBy: []shadow.ErrorCount{{Type: record.MissingField, Field: "/sku", Records: 400}},
	}}
	err := shadow.Guard{MaxNewlyRejected: 0.01}.Check(r)
	var refused *shadow.RefusedError
	require.True(t, errors.As(err, &refused))
	require.Equal(t, int64(12870), refused.Seen)
	require.InDelta(t, 0.032, refused.Share(), 0.0001)
	require.EqualError(t, err, "version 2 of orders would newly reject 3.2% of records (412 of 12870 evaluated in the last 1h), above the 1% allowed; top: MISSING_FIELD at /sku (400 records)")
	require.NotErrorIs(t, err, shadow.ErrNoEvidence)

	require.NoError(t, shadow.Guard{MaxNewlyRejected: 0.05}.Check(r))
	require.NoError(t, shadow.Guard{MaxNewlyRejected: 412.0 / 12870}.Check(r), "at the limit is allowed")
	r.Recent = shadow.Counts{AgreePass: 10}
	require.NoError(t, shadow.Guard{}.Check(r), "none newly rejected passes a zero limit")

	r.Recent, r.Window = shadow.Counts{}, 15*time.Minute
	err = shadow.Guard{MaxNewlyRejected: 1}.Check(r)
	require.ErrorIs(t, err, shadow.ErrNoEvidence)
	require.Contains(t, err.Error(), "in the last 15m on this gateway")

	require.NoError(t, shadow.Guard{MaxNewlyRejected: 0.01, Window: time.Hour}.Validate())
	require.Error(t, shadow.Guard{MaxNewlyRejected: 1.5}.Validate())
	require.Error(t, shadow.Guard{MaxNewlyRejected: -0.1}.Validate())
	require.Error(t, shadow.Guard{Window: 2 * time.Hour}.Validate())
}

func TestPercent(t *testing.T) {
	t.Parallel()
	for f, want := range map[float64]string{0.032: "3.2%", 0.01: "1%", 0.0008: "0.08%", 1: "100%", 0: "0%", 1.0 / 3: "33.3%"} {
		require.Equal(t, want, shadow.Percent(f), "%v", f)
	}
}
