package rules_test

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
)

const benchEvent = `{"user_id":"USER123456","event_type":"purchase","timestamp":"2026-01-10T19:50:00Z",` +
	`"session_id":"5f0c2a8e-9a51-4c34-b8b7-3f8f6a4f1d2e","page":"/products/espresso-machine-deluxe",` +
	`"amount":249.99,"metadata":{"browser":"firefox","os":"linux","campaign":"winter-sale","ab":"B","ref":"newsletter"}}`

// benchRules are what BenchmarkEval measures: one rule each, from a single
// comparison to the four-clause rule DEPENDENCIES.md quotes.
var benchRules = []struct {
	name string
	expr string
}{
	{"range", "message.amount > 0"},
	{"timestamp", "timestamp(message.timestamp) <= now"},
	{"four_clauses", "message.amount > 0 && message.amount < 10000 && message.event_type in ['view', 'click', 'purchase'] && " +
		"timestamp(message.timestamp) <= now"},
	{"regex", "message.user_id.matches('^USER[0-9]{6}$')"},
}

// BenchmarkEval is the cost of one rule on one decoded ~300 B event, the
// rules layer's per-record price (go test -bench Eval ./internal/rules).
func BenchmarkEval(b *testing.B) {
	msg := decode(b, benchEvent)
	for _, br := range benchRules {
		b.Run(br.name, func(b *testing.B) {
			s := compile(b, rules.Spec{Name: "r", Expr: br.expr})
			dst := make([]record.Violation, 0, 1)
			b.ReportAllocs()
			for b.Loop() {
				if got := s.Eval(msg, now, dst[:0]); len(got) != 0 {
					b.Fatal(got)
				}
			}
		})
	}
}

// BenchmarkCompile is the load-time cost of one rule.
func BenchmarkCompile(b *testing.B) {
	specs := []rules.Spec{{Name: "r", Expr: benchRules[2].expr}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Compile(specs, rules.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
