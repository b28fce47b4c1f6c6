package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// userEventV2 is a candidate: it requires a sku, and takes any user_id.
var userEventV2 = strings.NewReplacer(
	`"required": ["user_id"`, `"required": ["sku", "user_id"`,
	`"type": "string", "pattern": "^USER[0-9]{6}$"`, `"type": "string"`,
).Replace(userEventSchema)

type candidates []*schema.Version

func (c candidates) Shadows(topic string) []*schema.Version {
	if topic == rawTopic {
		return c
	}
	return nil
}

// shadowEnv is newEnv whose engine evaluates userEventV2 in shadow, and
// the two versions alone, for offline verdicts.
func shadowEnv(t *testing.T, sample float64) (e *env, tally *shadow.Tally, reg *prometheus.Registry, v1, v2 *validate.Engine) {
	t.Helper()
	e = newEnv(t)
	enforced, err := formats.Compile(schema.FormatJSON, "user_event", 1, []byte(userEventSchema), formats.Options{})
	require.NoError(t, err)
	candidate, err := formats.Compile(schema.FormatJSON, "user_event", 2, []byte(userEventV2), formats.Options{})
	require.NoError(t, err)
	e.engine, err = validate.New(validate.Options{Resolver: schema.Fixed{Version: enforced}, Shadows: candidates{candidate}, MaxBytes: 1024})
	require.NoError(t, err)
	v1, err = validate.New(validate.Options{Resolver: schema.Fixed{Version: enforced}, MaxBytes: 1024})
	require.NoError(t, err)
	v2, err = validate.New(validate.Options{Resolver: schema.Fixed{Version: candidate}, MaxBytes: 1024})
	require.NoError(t, err)
	reg = prometheus.NewRegistry()
	tally, err = shadow.New(shadow.Options{Sample: sample, Registerer: reg})
	require.NoError(t, err)
	e.shadow = tally
	return e, tally, reg, v1, v2
}

// shadowMix is a known mix, the kinds interleaved over the partitions: 40
// records both versions accept, 25 only v1 accepts (no sku), 10 neither
// accepts, 5 only v2 accepts (a user_id v1's pattern refuses).
func shadowMix() []*kgo.Record {
	kinds := []struct {
		n     int
		value func(i int) string
	}{
		{40, func(i int) string {
			return fmt.Sprintf(`{"user_id":"USER%06d","event_type":"view","timestamp":"2026-01-10T19:50:00Z","sku":"s%d"}`, i, i)
		}},
		{25, valid},
		{10, func(i int) string {
			return fmt.Sprintf(`{"user_id":"USER%06d","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z","sku":"s%d"}`, i, i)
		}},
		{5, func(i int) string {
			return fmt.Sprintf(`{"user_id":"bob-%d","event_type":"view","timestamp":"2026-01-10T19:50:00Z","sku":"s%d"}`, i, i)
		}},
	}
	var recs []*kgo.Record
	for i := 0; len(recs) < 80; i++ {
		for _, k := range kinds {
			if i < k.n {
				n := len(recs)
				recs = append(recs, &kgo.Record{
					Partition: int32(n % 3), Key: []byte("k" + strconv.Itoa(n)), Value: []byte(k.value(i)),
					Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t" + strconv.Itoa(n))}},
				})
			}
		}
	}
	return recs
}

// offline computes the tally's counts from the records' values with the
// two versions alone, as a user would check them.
func offline(t *testing.T, v1, v2 *validate.Engine, recs []*kgo.Record, pick func(*kgo.Record) bool) shadow.Counts {
	t.Helper()
	var c shadow.Counts
	by := map[[2]string]int64{}
	for _, r := range recs {
		if !pick(r) {
			continue
		}
		rec := record.Record{Topic: rawTopic, Value: r.Value}
		var today, cand record.Verdict
		require.NoError(t, v1.Validate(&rec, &today))
		require.NoError(t, v2.Validate(&rec, &cand))
		switch shadow.Classify(today.Valid(), cand.Valid()) {
		case shadow.AgreePass:
			c.AgreePass++
		case shadow.AgreeFail:
			c.AgreeFail++
		case shadow.NewlyRejected:
			c.NewlyRejected++
			seen := map[[2]string]bool{}
			for _, e := range cand.Violations {
				k := [2]string{string(e.Type), e.Field}
				if !seen[k] {
					seen[k] = true
					by[k]++
				}
			}
		case shadow.NewlyAccepted:
			c.NewlyAccepted++
		}
	}
	for k, n := range by {
		c.NewlyRejectedBy = append(c.NewlyRejectedBy, shadow.ErrorCount{Type: record.ErrorType(k[0]), Field: k[1], Records: n})
	}
	return c
}

func waitSeen(t *testing.T, tally *shadow.Tally, n int64) shadow.Report {
	t.Helper()
	var r shadow.Report
	testwait.For(t, 20*time.Second, fmt.Sprintf("%d shadow verdicts counted", n), func() error {
		rs := tally.Report("user_event", time.Hour)
		if len(rs) != 1 {
			return fmt.Errorf("%d reports", len(rs))
		}
		r = rs[0]
		if r.Total.Seen() < n {
			return fmt.Errorf("%d seen", r.Total.Seen())
		}
		return nil
	})
	return r
}

// TestPipelineShadow: with a candidate in shadow, every record is routed
// exactly as without it (same topic, same headers: nothing says a shadow
// ran), and the tally's counts, by outcome and by error, equal an offline
// computation with the two versions exactly.
func TestPipelineShadow(t *testing.T) {
	e, tally, reg, v1, v2 := shadowEnv(t, 1)
	recs := shadowMix()
	e.produce(recs...)
	stop := e.run("g-shadow", pipeline.NewMetrics(prometheus.NewRegistry()), nil)
	clean := e.consume(cleanTopic, 65)
	dlq := e.consume(dlqTopic, 15)
	r := waitSeen(t, tally, 80)
	require.NoError(t, stop())

	for _, c := range clean {
		require.Equal(t, []kgo.RecordHeader{{Key: "trace", Value: []byte("t" + string(c.Key[1:]))}}, c.Headers, "a clean record's headers are its own")
		rec := record.Record{Topic: rawTopic, Value: c.Value}
		var v record.Verdict
		require.NoError(t, v1.Validate(&rec, &v))
		require.True(t, v.Valid(), "v1 decides: %s", c.Value)
	}
	for _, d := range dlq {
		require.Equal(t, "1", header(d, pipeline.HeaderSchemaVersion))
		require.Contains(t, []string{string(record.PatternMismatch), string(record.EnumViolation)}, header(d, pipeline.HeaderErrorType), "v1's errors")
		for _, h := range d.Headers {
			require.NotContains(t, h.Key, "shadow")
		}
	}

	want := offline(t, v1, v2, recs, func(*kgo.Record) bool { return true })
	require.Equal(t, shadow.Counts{
		AgreePass: 40, AgreeFail: 10, NewlyRejected: 25, NewlyAccepted: 5,
		NewlyRejectedBy: []shadow.ErrorCount{{Type: record.MissingField, Field: "/sku", Records: 25}},
	}, want, "the mix is as built")
	require.Equal(t, want, r.Total)
	require.Equal(t, want, r.Recent)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP schema_shadow_verdicts_total Records evaluated against a schema version in shadow, by how its verdict compares with the enforced version's: agree_pass, agree_fail, newly_rejected (accepted today, the candidate would reject), newly_accepted.
# TYPE schema_shadow_verdicts_total counter
schema_shadow_verdicts_total{outcome="agree_fail",subject="user_event",version="2"} 10
schema_shadow_verdicts_total{outcome="agree_pass",subject="user_event",version="2"} 40
schema_shadow_verdicts_total{outcome="newly_accepted",subject="user_event",version="2"} 5
schema_shadow_verdicts_total{outcome="newly_rejected",subject="user_event",version="2"} 25
`), "schema_shadow_verdicts_total"))

	// The samples point at the records: a newly rejected one (clean
	// today, no row) by its coordinates and payload, a newly accepted one
	// (quarantined today) by the id of its row.
	rej := r.Samples[shadow.NewlyRejected]
	require.Len(t, rej, shadow.SamplesPerOutcome)
	for _, s := range rej {
		require.False(t, s.Stored)
		require.Contains(t, string(s.Value), `"event_type":"view"`)
		require.NotContains(t, string(s.Value), "sku")
		require.Equal(t, record.ID(rawTopic, s.Partition, s.Offset), s.ID)
		require.Equal(t, []record.Violation{{Type: record.MissingField, Field: "/sku", Keyword: "required", Message: s.Candidate[0].Message}}, s.Candidate)
	}
	acc := r.Samples[shadow.NewlyAccepted]
	require.Len(t, acc, 5)
	for _, s := range acc {
		require.True(t, s.Stored)
		entry, err := e.meta.Get(context.Background(), s.ID)
		require.NoError(t, err, "a quarantined sample opens in the browser by its id")
		require.Contains(t, string(s.Value), `"user_id":"bob-`)
		require.Equal(t, record.PatternMismatch, entry.ErrorType)
	}
}

// TestPipelineShadowSampled: at shadow.sample 0.5 the records evaluated
// are exactly those Sampled picks by their coordinates, so the counts
// still equal the offline computation over the same records.
func TestPipelineShadowSampled(t *testing.T) {
	e, tally, _, v1, v2 := shadowEnv(t, 0.5)
	var recs []*kgo.Record
	for range 5 {
		recs = append(recs, shadowMix()...)
	}
	e.produce(recs...) // fills in each record's partition and offset
	picked := func(r *kgo.Record) bool { return shadow.Sampled(0.5, rawTopic, r.Partition, r.Offset) }
	want := offline(t, v1, v2, recs, picked)
	require.InDelta(t, 200, want.Seen(), 40, "about half of 400")
	stop := e.run("g-sampled", pipeline.NewMetrics(prometheus.NewRegistry()), nil)
	e.consume(cleanTopic, 5*65)
	r := waitSeen(t, tally, want.Seen())
	require.NoError(t, stop())
	require.Equal(t, want, r.Total)
}

// TestPipelineObserve: an input in observe mode sends every record to the
// clean topic; an invalid one is counted as invalid and marked with the
// dq.observed.* headers (a producer's own dq.* header moved aside), and,
// with observed rows, stored with status observed under dq.observed.id.
func TestPipelineObserve(t *testing.T) {
	for _, rows := range []bool{false, true} {
		t.Run(fmt.Sprintf("rows=%v", rows), func(t *testing.T) {
			e := newEnv(t)
			e.observe = map[string]bool{rawTopic: true}
			if rows {
				e.observedRows = map[string]bool{rawTopic: true}
			}
			var recs []*kgo.Record
			for i := range 20 {
				recs = append(recs, &kgo.Record{Partition: int32(i % 3), Key: []byte("ok" + strconv.Itoa(i)), Value: []byte(valid(i))})
			}
			bad := []string{
				`{"event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`,
				`{"user_id":"USER000001","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}`,
				`{"user_id":`,
			}
			for i, v := range bad {
				recs = append(recs, &kgo.Record{
					Partition: int32(i % 3), Key: []byte("bad" + strconv.Itoa(i)), Value: []byte(v),
					Headers: []kgo.RecordHeader{{Key: pipeline.HeaderObservedErrorType, Value: []byte("NONE")}},
				})
			}
			e.produce(recs...)
			reg := prometheus.NewRegistry()
			m := pipeline.NewMetrics(reg)
			stop := e.run("g-observe", m, nil)
			clean := e.consume(cleanTopic, 23)
			e.consume(dlqTopic, 0)
			testwait.For(t, 10*time.Second, "23 records processed", func() error {
				if got := totals(t, reg).Processed; got != 23 {
					return fmt.Errorf("%d processed", got)
				}
				return nil
			})
			require.NoError(t, stop())

			marked := 0
			for _, c := range clean {
				if strings.HasPrefix(string(c.Key), "ok") {
					for _, h := range c.Headers {
						require.False(t, strings.HasPrefix(h.Key, "dq."), "a valid record is not marked: %s", h.Key)
					}
					continue
				}
				marked++
				require.Equal(t, "NONE", header(c, "dq.original.observed.error.type"), "the producer's header, moved aside")
				typ := header(c, pipeline.HeaderObservedErrorType)
				require.Contains(t, []string{string(record.MissingField), string(record.EnumViolation), string(record.ParseError)}, typ)
				require.NotEqual(t, "<missing>", header(c, pipeline.HeaderObservedErrorField))
				require.NotEqual(t, "<missing>", header(c, pipeline.HeaderObservedErrorMessage))
				var errs []record.Violation
				require.NoError(t, json.Unmarshal([]byte(header(c, pipeline.HeaderObservedErrors)), &errs))
				require.Equal(t, typ, string(errs[0].Type))
				require.Equal(t, "user_event", header(c, pipeline.HeaderSchemaSubject))
				require.Equal(t, "1", header(c, pipeline.HeaderSchemaVersion))
				require.Equal(t, "<missing>", header(c, pipeline.HeaderQuarantineID), "not quarantined")
				if !rows {
					require.Equal(t, "<missing>", header(c, pipeline.HeaderObservedID))
					continue
				}
				entry, err := e.meta.Get(context.Background(), header(c, pipeline.HeaderObservedID))
				require.NoError(t, err)
				require.Equal(t, quarantine.StatusObserved, entry.Status)
				require.False(t, entry.Status.Actionable(), "observed rows are never reprocessed")
				require.Equal(t, typ, string(entry.ErrorType))
				p, err := e.payloads.Read(context.Background(), entry.Payload)
				require.NoError(t, err)
				require.Equal(t, string(c.Value), string(p.Value))
			}
			require.Equal(t, 3, marked)
			tot := totals(t, reg)
			require.Equal(t, int64(20), tot.Valid)
			require.Equal(t, int64(3), tot.Invalid, "violations are counted as today")
			page, err := e.meta.List(context.Background(), quarantine.Filter{})
			require.NoError(t, err)
			if rows {
				require.Len(t, page.Entries, 3)
			} else {
				require.Empty(t, page.Entries)
			}
		})
	}
}

// BenchmarkPipelineShadow is BenchmarkPipeline without a version in shadow
// (off), with one evaluated on every record (on: a candidate that also
// requires "page", which every record has, so the verdicts agree), and
// with shadow.sample 0.1; the sub-benchmarks run in turn, so -count
// interleaves them. The figure to compare is cpu-ns/record.
func BenchmarkPipelineShadow(b *testing.B) {
	candidate, err := formats.Compile(schema.FormatJSON, "user_event", 2,
		[]byte(strings.Replace(userEventSchema, `"required": ["user_id"`, `"required": ["page", "user_id"`, 1)), formats.Options{})
	require.NoError(b, err)
	for _, bc := range []struct {
		name   string
		sample float64
	}{{"off", 0}, {"on", 1}, {"sample=0.1", 0.1}} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.sample == 0 {
				benchPipeline(b, nil, nil)
				return
			}
			tally, err := shadow.New(shadow.Options{Sample: bc.sample})
			require.NoError(b, err)
			benchPipeline(b, candidates{candidate}, tally)
			for _, r := range tally.Report("user_event", 0) { // none when b.N is too small for a 0.1 sample
				require.Zero(b, r.Total.NewlyRejected+r.Total.NewlyAccepted, "the verdicts agree")
			}
		})
	}
}
