package rules_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// now is the fixed clock of these tests.
var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// decode turns a JSON document into the value the JSON decoder hands the
// rules layer (json.Number numbers).
func decode(t testing.TB, doc string) any {
	t.Helper()
	v, bad, ok := jsonschema.Decode([]byte(doc), jsonschema.Limits{})
	require.True(t, ok, "%s: %+v", doc, bad)
	return v
}

func compile(t testing.TB, specs ...rules.Spec) *rules.Set {
	t.Helper()
	s, err := rules.Compile(specs, rules.Options{})
	require.NoError(t, err)
	return s
}

var futureTimestamp = rules.Spec{
	Name:    "future_timestamp_check",
	Expr:    "timestamp(message.timestamp) <= now",
	Message: "Timestamp cannot be in future",
	Field:   "/timestamp",
}

func TestFutureTimestamp(t *testing.T) {
	t.Parallel()
	s := compile(t, futureTimestamp)
	cases := []struct {
		name string
		ts   time.Time
		want []record.Violation
	}{
		{"yesterday passes", now.Add(-24 * time.Hour), nil},
		{"now passes", now, nil},
		{"tomorrow is quarantined", now.Add(24 * time.Hour), []record.Violation{{
			Type: record.RuleViolation, Field: "/timestamp", Keyword: "future_timestamp_check", Message: "Timestamp cannot be in future",
		}}},
		{"one second ahead is quarantined", now.Add(time.Second), []record.Violation{{
			Type: record.RuleViolation, Field: "/timestamp", Keyword: "future_timestamp_check", Message: "Timestamp cannot be in future",
		}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			msg := decode(t, `{"timestamp":"`+c.ts.Format(time.RFC3339)+`"}`)
			require.Equal(t, c.want, s.Eval(msg, now, nil))
		})
	}
}

func TestEval(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		spec rules.Spec
		doc  string
		// wantMessage is the violation's message, "" when the rule holds.
		wantMessage string
	}{
		{"range holds", rules.Spec{Expr: "message.amount > 0 && message.amount <= 10000"}, `{"amount": 249.99}`, ""},
		{"range on an integer", rules.Spec{Expr: "message.amount > 0 && message.amount <= 10000"}, `{"amount": 3}`, ""},
		{"range fails", rules.Spec{Expr: "message.amount > 0", Message: "amount must be positive"}, `{"amount": -1}`, "amount must be positive"},
		{"range fails on zero", rules.Spec{Expr: "message.amount > 0", Message: "amount must be positive"}, `{"amount": 0.0}`, "amount must be positive"},
		{"integral number is an int", rules.Spec{Expr: "message.n + 1 == 43"}, `{"n": 42}`, ""},
		{"integral number written with exponent is an int", rules.Spec{Expr: "message.n + 1 == 43"}, `{"n": 4.2e1}`, ""},
		{"integral number written with fraction is an int", rules.Spec{Expr: "type(message.n) == int"}, `{"n": 42.0}`, ""},
		{"fraction is a double", rules.Spec{Expr: "type(message.n) == double && message.n * 2.0 == 25.0"}, `{"n": 12.5}`, ""},
		{"beyond 2^53 a non-integer literal is a double", rules.Spec{Expr: "type(message.n) == double"}, `{"n": 1e20}`, ""},
		{"int64 literal stays exact", rules.Spec{Expr: "message.n == 9007199254740993"}, `{"n": 9007199254740993}`, ""},
		{"numbers in lists convert too", rules.Spec{Expr: "message.items.all(i, i.qty > 0 && i.qty + 0 == i.qty)"}, `{"items":[{"qty":1},{"qty":2}]}`, ""},
		{"cross-field holds", rules.Spec{Expr: "message.min <= message.max"}, `{"min": 1, "max": 2.5}`, ""},
		{
			"cross-field fails",
			rules.Spec{Expr: "message.event_type != 'purchase' || message.amount > 0", Message: "a purchase needs an amount"},
			`{"event_type":"purchase","amount":0}`, "a purchase needs an amount",
		},
		{"string format", rules.Spec{Expr: "message.email.matches('^[^@]+@[^@]+$')"}, `{"email":"a@b.example"}`, ""},
		{"has() on an absent field", rules.Spec{Expr: "!has(message.coupon) || message.coupon.startsWith('C-')"}, `{}`, ""},
		{"optional field", rules.Spec{Expr: "message.?discount.orValue(0) < 50"}, `{}`, ""},
		{"default message names the rule", rules.Spec{Expr: "message.n < 0"}, `{"n": 1}`, "failed rule r: message.n < 0"},
		{"missing field is a violation", rules.Spec{Expr: "timestamp(message.timestamp) <= now"}, `{}`, "rule could not be evaluated: no such key: timestamp"},
		{"bad timestamp is a violation", rules.Spec{Expr: "timestamp(message.ts) <= now"}, `{"ts":"yesterday"}`, `rule could not be evaluated: invalid RFC 3339 timestamp "yesterday"`},
		{"wrong type is a violation", rules.Spec{Expr: "message.n > 0"}, `{"n":"one"}`, "rule could not be evaluated: no such overload"},
		{"non-bool result is a violation", rules.Spec{Expr: "message.n"}, `{"n": 1}`, "rule returned int, not a bool"},
		{"null result is a violation", rules.Spec{Expr: "message.n"}, `{"n": null}`, "rule returned null_type, not a bool"},
		{"not an object", rules.Spec{Expr: "message.n > 0"}, `[1, 2]`, "rule could not be evaluated: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.spec.Name = "r"
			c.spec.Field = "/f"
			got := compile(t, c.spec).Eval(decode(t, c.doc), now, nil)
			if c.wantMessage == "" {
				require.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			require.Equal(t, record.RuleViolation, got[0].Type)
			require.Equal(t, "r", got[0].Keyword)
			require.Equal(t, "/f", got[0].Field)
			require.True(t, strings.HasPrefix(got[0].Message, c.wantMessage), "message %q", got[0].Message)
		})
	}
}

// Every rule is evaluated and reported, in order, appended to what dst held.
func TestEvalReportsEveryRule(t *testing.T) {
	t.Parallel()
	s := compile(t,
		rules.Spec{Name: "positive", Expr: "message.amount > 0", Message: "amount must be positive", Field: "/amount"},
		rules.Spec{Name: "known_currency", Expr: "message.currency in ['EUR', 'USD']", Message: "unknown currency"},
		rules.Spec{Name: "holds", Expr: "true"},
	)
	require.Equal(t, 3, s.Len())
	require.Equal(t, []string{"positive", "known_currency", "holds"}, s.Names())
	prior := record.Violation{Type: record.SchemaViolation}
	got := s.Eval(decode(t, `{"amount": -5, "currency": "GBP"}`), now, []record.Violation{prior})
	require.Equal(t, []record.Violation{
		prior,
		{Type: record.RuleViolation, Field: "/amount", Keyword: "positive", Message: "amount must be positive"},
		{Type: record.RuleViolation, Keyword: "known_currency", Message: "unknown currency"},
	}, got)
}

func TestNilAndEmptySets(t *testing.T) {
	t.Parallel()
	var s *rules.Set
	require.Zero(t, s.Len())
	require.Nil(t, s.Names())
	require.Empty(t, s.Eval(map[string]any{}, now, nil))
	empty := compile(t)
	require.Zero(t, empty.Len())
	require.Empty(t, empty.Eval(nil, now, nil))
}

// A runaway rule ends at the cost limit, as a violation, promptly.
func TestCostLimit(t *testing.T) {
	t.Parallel()
	// 10^6 inner evaluations, each costing several units.
	huge := "[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, [0,1,2,3,4,5,6,7,8,9].all(c, " +
		"[0,1,2,3,4,5,6,7,8,9].all(d, [0,1,2,3,4,5,6,7,8,9].all(e, [0,1,2,3,4,5,6,7,8,9].all(f, a+b+c+d+e+f >= 0))))))"
	cases := []struct {
		name      string
		expr      string
		limit     uint64
		wantLimit string // "" when the rule holds within the limit
	}{
		{"huge comprehension at the default limit", huge, 0, "1000000"},
		{"huge comprehension at a low limit", huge, 1000, "1000"},
		{"data-sized comprehension", "message.xs.all(x, x >= 0)", 0, ""},
		{"data-sized comprehension over the limit", "message.xs.all(x, x >= 0)", 50, "50"},
	}
	xs := make([]any, 100)
	for i := range xs {
		xs[i] = json.Number("1")
	}
	msg := map[string]any{"xs": xs}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := rules.Compile([]rules.Spec{{Name: "r", Expr: c.expr}}, rules.Options{CostLimit: c.limit})
			require.NoError(t, err)
			got := s.Eval(msg, now, nil)
			if c.wantLimit == "" {
				require.Empty(t, got)
				return
			}
			require.Equal(t, []record.Violation{{
				Type: record.RuleViolation, Keyword: "r",
				Message: "rule could not be evaluated: it exceeded the cost limit of " + c.wantLimit,
			}}, got)
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 129)
	cases := []struct {
		name  string
		specs []rules.Spec
		want  []rules.Problem
	}{
		{"syntax error", []rules.Spec{{Name: "r", Expr: "message.amount >"}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "expr", Message: "1:17: Syntax error: mismatched input '<EOF>'",
		}}},
		{"undeclared variable", []rules.Spec{{Name: "r", Expr: "this.amount > 0"}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "expr", Message: "1:1: undeclared reference to 'this' (the record is message)",
		}}},
		{"unknown function", []rules.Spec{{Name: "r", Expr: "message.name.lowerAscii() == 'x'"}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "expr", Message: "1:24: undeclared reference to 'lowerAscii'",
		}}},
		{"not a bool", []rules.Spec{{Name: "r", Expr: "1 + 1"}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "expr", Message: "must evaluate to a bool, not int",
		}}},
		{"bad timestamp literal", []rules.Spec{{Name: "r", Expr: "now > timestamp('yesterday')"}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "expr", Message: "1:17: invalid timestamp argument",
		}}},
		{"bad regex literal", []rules.Spec{{Name: "r", Expr: "message.s.matches('(')"}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "expr", Message: "1:19: invalid matches argument",
		}}},
		{"empty expr", []rules.Spec{{Name: "r", Expr: "  "}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "expr", Message: "must not be empty",
		}}},
		{"missing name", []rules.Spec{{Expr: "true"}}, []rules.Problem{{
			Index: 0, Key: "name", Message: "must not be empty",
		}}},
		{"bad name", []rules.Spec{{Name: "9 lives", Expr: "true"}}, []rules.Problem{{
			Index: 0, Name: "9 lives", Key: "name", Message: `"9 lives": use letters, digits, '_', '.' and '-', starting with a letter or '_'`,
		}}},
		{"long name", []rules.Spec{{Name: long, Expr: "true"}}, []rules.Problem{{
			Index: 0, Name: long, Key: "name", Message: "is 129 characters long, at most 128 are allowed",
		}}},
		{"duplicate name", []rules.Spec{{Name: "r", Expr: "true"}, {Name: "r", Expr: "true"}}, []rules.Problem{{
			Index: 1, Name: "r", Key: "name", Message: `"r" is already the name of rules[0]`,
		}}},
		{"field not a pointer", []rules.Spec{{Name: "r", Expr: "true", Field: "timestamp"}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "field", Message: `"timestamp" is not a JSON pointer (it must start with /, e.g. /timestamp)`,
		}}},
		{"long message", []rules.Spec{{Name: "r", Expr: "true", Message: strings.Repeat("m", 257)}}, []rules.Problem{{
			Index: 0, Name: "r", Key: "message", Message: "is 257 bytes long, at most 256 are allowed",
		}}},
		{"every problem is reported", []rules.Spec{{Name: "ok", Expr: "true"}, {Name: "", Expr: "1"}, {Name: "r", Expr: "nope"}}, []rules.Problem{
			{Index: 1, Key: "name", Message: "must not be empty"},
			{Index: 1, Key: "expr", Message: "must evaluate to a bool, not int"},
			{Index: 2, Name: "r", Key: "expr", Message: "1:1: undeclared reference to 'nope'"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := rules.Compile(c.specs, rules.Options{})
			require.Nil(t, s)
			var ce *rules.CompileError
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Len(t, ce.Problems, len(c.want), "%v", err)
			for i, w := range c.want {
				got := ce.Problems[i]
				require.Equal(t, w.Index, got.Index)
				require.Equal(t, w.Name, got.Name)
				require.Equal(t, w.Key, got.Key)
				require.True(t, strings.HasPrefix(got.Message, w.Message), "message %q, want prefix %q", got.Message, w.Message)
			}
			require.Contains(t, err.Error(), "compiling rules: rules[")
		})
	}
}

func TestCompileErrorNamesTheRule(t *testing.T) {
	t.Parallel()
	_, err := rules.Compile([]rules.Spec{{Name: "ok", Expr: "true"}, {Name: "future", Expr: "timestamp(message.ts) <="}}, rules.Options{})
	require.ErrorContains(t, err, "compiling rules: rules[1] (future).expr: 1:25: Syntax error")
}

// Long runtime errors quoting the record are cut to a header-sized message.
func TestRuntimeErrorsAreTruncated(t *testing.T) {
	t.Parallel()
	s := compile(t, rules.Spec{Name: "r", Expr: "timestamp(message.ts) <= now"})
	got := s.Eval(map[string]any{"ts": strings.Repeat("é", 10000)}, now, nil)
	require.Len(t, got, 1)
	require.LessOrEqual(t, len(got[0].Message), 256)
	require.True(t, strings.HasSuffix(got[0].Message, "…"))
	require.True(t, strings.HasPrefix(got[0].Message, `rule could not be evaluated: invalid RFC 3339 timestamp "éé`))
}

// Values as the Avro decoder produces them.
func TestAvroValues(t *testing.T) {
	t.Parallel()
	s := compile(t,
		rules.Spec{Name: "ints", Expr: "message.i32 + message.i64 == 3"},
		rules.Spec{Name: "floats", Expr: "message.f32 < message.f64"},
		rules.Spec{Name: "time", Expr: "message.ts < now && now - message.ts > duration('1h')"},
		rules.Spec{Name: "bytes", Expr: "size(message.raw) == 2 && size(message.id) == 16"},
		rules.Spec{Name: "nested", Expr: "message.address.zip.matches('^[0-9]{5}$')"},
		rules.Spec{Name: "null", Expr: "message.opt == null"},
	)
	msg := map[string]any{
		"i32": int32(1), "i64": int64(2), "f32": float32(1.5), "f64": 2.5,
		"ts":  now.Add(-2 * time.Hour),
		"raw": []byte{1, 2}, "id": [16]byte{},
		"address": map[string]any{"zip": "75001"},
		"opt":     nil,
	}
	require.Empty(t, s.Eval(msg, now, nil))
}

// Sets are shared by every pipeline goroutine.
func TestConcurrentEval(t *testing.T) {
	t.Parallel()
	s := compile(t, futureTimestamp, rules.Spec{Name: "amount", Expr: "message.amount > 0"})
	good := decode(t, `{"timestamp":"2026-01-10T19:50:00Z","amount":1}`)
	done := make(chan []record.Violation)
	for range 8 {
		go func() {
			var got []record.Violation
			for range 200 {
				got = s.Eval(good, now, got[:0])
			}
			done <- got
		}()
	}
	for range 8 {
		require.Empty(t, <-done)
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	a, err := rules.Compile([]rules.Spec{{Name: "a", Expr: "message.n > 0"}}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rules.Compile([]rules.Spec{{Name: "a", Expr: "message.n < 10"}, {Name: "b", Expr: "true"}}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules.Join(nil, &rules.Set{}); got != nil {
		t.Fatalf("Join of no rules = %v, want nil", got)
	}
	j := rules.Join(a, nil, b)
	if got, want := j.Names(), []string{"a", "a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("Names = %v, want %v", got, want)
	}
	vs := j.Eval(map[string]any{"n": int64(20)}, time.Now(), nil)
	if len(vs) != 1 || vs[0].Keyword != "a" || vs[0].Message != "failed rule a: message.n < 10" {
		t.Fatalf("Eval = %+v, want the second rule a only", vs)
	}
	if a.Len() != 1 || b.Len() != 2 {
		t.Fatal("Join changed its inputs")
	}
}
