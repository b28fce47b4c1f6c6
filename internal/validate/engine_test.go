package validate_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

const userEventSchema = `{
  "type": "object",
  "properties": {
    "user_id": {"type": "string", "pattern": "^USER[0-9]{6}$"},
    "event_type": {"type": "string", "enum": ["view", "click", "purchase"]},
    "timestamp": {"type": "string", "format": "date-time"},
    "session_id": {"type": "string"},
    "page": {"type": "string"},
    "amount": {"type": "number", "minimum": 0},
    "metadata": {"type": "object"}
  },
  "required": ["user_id", "event_type", "timestamp"]
}`

// A ~300-byte event, the size the throughput targets are stated for.
const event300 = `{"user_id":"USER123456","event_type":"purchase","timestamp":"2026-01-10T19:50:00Z",` +
	`"session_id":"5f0c2a8e-9a51-4c34-b8b7-3f8f6a4f1d2e","page":"/products/espresso-machine-deluxe",` +
	`"amount":249.99,"metadata":{"browser":"firefox","os":"linux","campaign":"winter-sale","ab":"B","ref":"newsletter"}}`

func newEngine(t testing.TB, bindings map[string]string, maxBytes int) *validate.Engine {
	t.Helper()
	v, err := formats.Compile(schema.FormatJSON, "user_event", 3, []byte(userEventSchema), formats.Options{})
	require.NoError(t, err)
	res, err := schema.NewStatic(bindings, []*schema.Version{v})
	require.NoError(t, err)
	e, err := validate.New(validate.Options{Resolver: res, MaxBytes: maxBytes})
	require.NoError(t, err)
	return e
}

func TestEngine(t *testing.T) {
	t.Parallel()
	e := newEngine(t, map[string]string{"raw-events": "user_event"}, 400)
	cases := []struct {
		name        string
		topic       string
		value       []byte
		wantSubject string
		wantVersion int
		want        []record.Violation
	}{
		{"valid", "raw-events", []byte(event300), "user_event", 3, nil},
		{"tombstone is valid", "raw-events", nil, "user_event", 3, nil},
		{"unbound topic", "other", []byte(event300), "", 0, []record.Violation{{
			Type: record.SchemaNotFound, Message: "no schema subject is bound to topic other",
		}}},
		{"too large", "raw-events", make([]byte, 401), "user_event", 3, []record.Violation{{
			Type: record.PayloadTooLarge, Keyword: "max_bytes", Message: "payload is 401 bytes, the limit is 400",
		}}},
		{"at the limit is checked, not refused", "raw-events", append([]byte(event300), make([]byte, 400-len(event300))...), "user_event", 3, []record.Violation{{
			Type: record.ParseError,
		}}},
		{"missing field", "raw-events", []byte(`{"event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`), "user_event", 3, []record.Violation{{
			Type: record.MissingField, Field: "/user_id", Keyword: "required",
		}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var v record.Verdict
			require.NoError(t, e.Validate(&record.Record{Topic: c.topic, Value: c.value}, &v))
			require.Equal(t, c.wantSubject, v.Subject)
			require.Equal(t, c.wantVersion, v.Version)
			require.Len(t, v.Violations, len(c.want))
			for i, w := range c.want {
				got := v.Violations[i]
				require.Equal(t, w.Type, got.Type)
				require.Equal(t, w.Field, got.Field)
				require.Equal(t, w.Keyword, got.Keyword)
				if w.Message != "" {
					require.Equal(t, w.Message, got.Message)
				}
				require.NotEmpty(t, got.Message)
			}
			require.Equal(t, len(c.want) == 0, v.Valid())
		})
	}
}

// A verdict is reset between records: nothing leaks from one to the next.
func TestEngineResetsVerdict(t *testing.T) {
	t.Parallel()
	e := newEngine(t, map[string]string{"raw-events": "user_event"}, 0)
	var v record.Verdict
	require.NoError(t, e.Validate(&record.Record{Topic: "raw-events", Value: []byte(`{}`)}, &v))
	require.Len(t, v.Violations, 3)
	require.NoError(t, e.Validate(&record.Record{Topic: "raw-events", Value: []byte(event300)}, &v))
	require.True(t, v.Valid())
}

// newRulesEngine is newEngine with business rules on the version and a
// fixed clock.
func newRulesEngine(t testing.TB, now time.Time, specs ...rules.Spec) *validate.Engine {
	t.Helper()
	v, err := formats.Compile(schema.FormatJSON, "user_event", 3, []byte(userEventSchema), formats.Options{})
	require.NoError(t, err)
	v.Rules, err = rules.Compile(specs, rules.Options{})
	require.NoError(t, err)
	e, err := validate.New(validate.Options{
		Resolver: schema.Fixed{Version: v},
		Now:      func() time.Time { return now },
	})
	require.NoError(t, err)
	return e
}

var futureTimestamp = rules.Spec{
	Name:    "future_timestamp_check",
	Expr:    "timestamp(message.timestamp) <= now",
	Message: "Timestamp cannot be in future",
	Field:   "/timestamp",
}

func TestEngineRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	e := newRulesEngine(t, now, futureTimestamp, rules.Spec{
		Name: "purchase_amount", Expr: "message.event_type != 'purchase' || message.amount > 0",
		Message: "a purchase needs a positive amount", Field: "/amount",
	})
	event := func(ts time.Time, extra string) []byte {
		return []byte(`{"user_id":"USER123456","event_type":"purchase","timestamp":"` + ts.Format(time.RFC3339) + `"` + extra + `}`)
	}
	cases := []struct {
		name  string
		value []byte
		want  []record.Violation
	}{
		{"dated yesterday passes", event(now.Add(-24*time.Hour), `,"amount":5`), nil},
		{"dated tomorrow is quarantined", event(now.Add(24*time.Hour), `,"amount":5`), []record.Violation{{
			Type: record.RuleViolation, Field: "/timestamp", Keyword: "future_timestamp_check", Message: "Timestamp cannot be in future",
		}}},
		{"every failed rule is reported", event(now.Add(24*time.Hour), `,"amount":0`), []record.Violation{
			{Type: record.RuleViolation, Field: "/timestamp", Keyword: "future_timestamp_check", Message: "Timestamp cannot be in future"},
			{Type: record.RuleViolation, Field: "/amount", Keyword: "purchase_amount", Message: "a purchase needs a positive amount"},
		}},
		{"a rule error is a violation of the rule", event(now, ``), []record.Violation{{
			Type: record.RuleViolation, Field: "/amount", Keyword: "purchase_amount", Message: "rule could not be evaluated: no such key: amount",
		}}},
		// Dated tomorrow and with no amount, but the schema layer already
		// failed: the rules do not run.
		{"rules do not run on schema-invalid records", []byte(`{"user_id":"nope","event_type":"purchase","timestamp":"` +
			now.Add(24*time.Hour).Format(time.RFC3339) + `"}`), []record.Violation{{
			Type: record.PatternMismatch, Field: "/user_id", Keyword: "pattern",
		}}},
		{"nor on undecodable ones", []byte(`{"user_id":`), []record.Violation{{Type: record.ParseError, Field: "/user_id"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var v record.Verdict
			require.NoError(t, e.Validate(&record.Record{Topic: "raw-events", Value: c.value}, &v))
			require.Len(t, v.Violations, len(c.want), "%+v", v.Violations)
			for i, w := range c.want {
				got := v.Violations[i]
				require.Equal(t, w.Type, got.Type)
				require.Equal(t, w.Field, got.Field)
				require.Equal(t, w.Keyword, got.Keyword)
				if w.Message != "" {
					require.Equal(t, w.Message, got.Message)
				}
			}
		})
	}
}

// Without Options.Now the engine reads the real clock.
func TestEngineDefaultClock(t *testing.T) {
	t.Parallel()
	v, err := formats.Compile(schema.FormatJSON, "user_event", 3, []byte(userEventSchema), formats.Options{})
	require.NoError(t, err)
	v.Rules, err = rules.Compile([]rules.Spec{futureTimestamp}, rules.Options{})
	require.NoError(t, err)
	e, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v}})
	require.NoError(t, err)
	for _, c := range []struct {
		ts    time.Time
		valid bool
	}{{time.Now().Add(-time.Hour), true}, {time.Now().Add(24 * time.Hour), false}} {
		var verdict record.Verdict
		value := `{"user_id":"USER123456","event_type":"view","timestamp":"` + c.ts.UTC().Format(time.RFC3339) + `"}`
		require.NoError(t, e.Validate(&record.Record{Value: []byte(value)}, &verdict))
		require.Equal(t, c.valid, verdict.Valid(), "%+v", verdict.Violations)
	}
}

type brokenResolver struct{}

func (brokenResolver) Resolve(string) (*schema.Version, error) {
	return nil, errors.New("registry unreachable")
}

// An outage is an error to retry, never a verdict.
func TestEngineOutageIsAnError(t *testing.T) {
	t.Parallel()
	e, err := validate.New(validate.Options{Resolver: brokenResolver{}})
	require.NoError(t, err)
	var v record.Verdict
	err = e.Validate(&record.Record{Topic: "raw-events", Value: []byte(event300)}, &v)
	require.ErrorContains(t, err, "registry unreachable")
	require.Empty(t, v.Violations)
}

func BenchmarkEngineValid(b *testing.B) {
	e := newEngine(b, map[string]string{"raw-events": "user_event"}, 0)
	rec := record.Record{Topic: "raw-events", Value: []byte(event300)}
	var v record.Verdict
	b.SetBytes(int64(len(event300)))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Validate(&rec, &v); err != nil || !v.Valid() {
			b.Fatal(err, v.Violations)
		}
	}
}

func BenchmarkEngineInvalid(b *testing.B) {
	e := newEngine(b, map[string]string{"raw-events": "user_event"}, 0)
	bad := `{"user_id":"user-1","event_type":"scroll","timestamp":"yesterday","page":"/products/espresso-machine-deluxe"}`
	rec := record.Record{Topic: "raw-events", Value: []byte(bad)}
	var v record.Verdict
	b.SetBytes(int64(len(bad)))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Validate(&rec, &v); err != nil || len(v.Violations) != 3 {
			b.Fatal(err, v.Violations)
		}
	}
}

// BenchmarkEngineValidWithRule is BenchmarkEngineValid plus the
// future-timestamp rule: the price of the rules layer in the whole path.
func BenchmarkEngineValidWithRule(b *testing.B) {
	e := newRulesEngine(b, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), futureTimestamp)
	rec := record.Record{Topic: "raw-events", Value: []byte(event300)}
	var v record.Verdict
	b.SetBytes(int64(len(event300)))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Validate(&rec, &v); err != nil || !v.Valid() {
			b.Fatal(err, v.Violations)
		}
	}
}

// A rollout fallback: v2 (enforced) requires "currency"; v1, still accepted,
// does not. A record only v1 accepts passes labelled v1, from v2; a record
// neither accepts carries v2's errors alone; a rule of v1 still applies to
// records it takes.
func TestEngineFallback(t *testing.T) {
	t.Parallel()
	v1, err := formats.Compile(schema.FormatJSON, "orders", 1, []byte(`{"type":"object","required":["id"],"properties":{"id":{"type":"integer"},"amount":{"type":"number"}}}`), formats.Options{})
	require.NoError(t, err)
	v1.Rules, err = rules.Compile([]rules.Spec{{Name: "positive", Expr: "!has(message.amount) || message.amount > 0", Message: "amount must be positive", Field: "/amount"}}, rules.Options{})
	require.NoError(t, err)
	v2, err := formats.Compile(schema.FormatJSON, "orders", 2, []byte(`{"type":"object","required":["id","currency"],"properties":{"id":{"type":"integer"},"currency":{"type":"string"}}}`), formats.Options{})
	require.NoError(t, err)
	enforced := *v2
	enforced.Fallback = []*schema.Version{v1}
	e, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: &enforced}})
	require.NoError(t, err)

	cases := []struct {
		name         string
		value        string
		wantVersion  int
		wantFallback int
		wantTypes    []record.ErrorType
	}{
		{"enforced version accepts", `{"id":1,"currency":"EUR"}`, 2, 0, nil},
		{"only the fallback accepts", `{"id":1}`, 1, 2, nil},
		{"fallback rule rejects: enforced errors kept", `{"id":1,"amount":-5}`, 2, 0, []record.ErrorType{record.MissingField}},
		{"no version accepts", `{"currency":"EUR"}`, 2, 0, []record.ErrorType{record.MissingField}},
		{"undecodable", `{"id":`, 2, 0, []record.ErrorType{record.ParseError}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v record.Verdict
			require.NoError(t, e.Validate(&record.Record{Topic: "orders", Value: []byte(tc.value)}, &v))
			require.Equal(t, tc.wantVersion, v.Version)
			require.Equal(t, tc.wantFallback, v.FallbackFrom)
			var types []record.ErrorType
			for _, vi := range v.Violations {
				types = append(types, vi.Type)
			}
			require.Equal(t, tc.wantTypes, types)
		})
	}
}

// layerLog records the layers an engine reports.
type layerLog struct{ layers []string }

func (l *layerLog) ObserveLayer(layer string, d time.Duration) {
	if d < 0 {
		panic("negative layer time")
	}
	l.layers = append(l.layers, layer)
}

// TestEngineLayerTiming: sampled records report each layer they ran
// through, in order; unsampled ones report nothing.
func TestEngineLayerTiming(t *testing.T) {
	v, err := formats.Compile(schema.FormatJSON, "user_event", 1, []byte(userEventSchema), formats.Options{})
	require.NoError(t, err)
	v.Rules, err = rules.Compile([]rules.Spec{{Name: "amount", Expr: "!has(message.amount) || message.amount < 1000.0"}}, rules.Options{})
	require.NoError(t, err)
	cases := []struct {
		name  string
		value string
		want  []string
	}{
		{"valid: every layer", event300, []string{validate.LayerDecode, validate.LayerSchema, validate.LayerRules}},
		{"schema violation: no rules", `{"user_id":"x"}`, []string{validate.LayerDecode, validate.LayerSchema}},
		{"undecodable: decode only", `{"user_id":`, []string{validate.LayerDecode}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log layerLog
			e, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v}, Layers: &log, LayerSampleEvery: 1})
			require.NoError(t, err)
			var verdict record.Verdict
			require.NoError(t, e.Validate(&record.Record{Topic: "t", Value: []byte(tc.value)}, &verdict))
			require.Equal(t, tc.want, log.layers)
		})
	}
	var log layerLog
	e, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v}, Layers: &log, LayerSampleEvery: 4})
	require.NoError(t, err)
	var verdict record.Verdict
	for offset := range int64(8) {
		require.NoError(t, e.Validate(&record.Record{Topic: "t", Offset: offset, Value: []byte(event300)}, &verdict))
	}
	require.Len(t, log.layers, 6, "offsets 0 and 4 sampled, three layers each")
}
