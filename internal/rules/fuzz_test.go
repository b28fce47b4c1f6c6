package rules_test

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// FuzzCompile feeds arbitrary expressions to the compiler: it must refuse
// or accept, never panic, and an accepted rule must evaluate to at most one
// violation of the rule, within the cost limit, whatever it computes.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		"timestamp(message.timestamp) <= now",
		"message.amount > 0 && message.amount <= 10000",
		"message.event_type != 'purchase' || message.amount > 0",
		"!has(message.coupon) || message.coupon.startsWith('C-')",
		"message.?discount.orValue(0) < 50",
		"message.user_id.matches('^USER[0-9]{6}$')",
		"message.metadata.all(k, k.size() < 20)",
		"[1,2,3].map(x, [1,2,3].map(y, x * y)).size() > 0",
		"now - duration('24h') < timestamp(message.timestamp)",
		"size(message.page) < 100 && message.page.contains('/')",
		"message.amount",
		"1 / 0 == 1",
		"dyn(message)[0] == 1",
		"((((((((((true))))))))))",
		"message.`field-with-dash` == 1",
		"'\\xff' == string(b'\\xff')",
		"int('9223372036854775808') > 0",
		"-9223372036854775808 / -1 == 0",
	} {
		f.Add(seed)
	}
	msg := decode(f, benchEvent)
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := rules.Compile([]rules.Spec{{Name: "fuzz", Expr: expr}}, rules.Options{CostLimit: 10_000})
		if err != nil {
			return
		}
		got := s.Eval(msg, now, nil)
		if len(got) > 1 {
			t.Fatalf("%q: %d violations from one rule", expr, len(got))
		}
		for _, v := range got {
			if v.Type != record.RuleViolation || v.Keyword != "fuzz" || v.Message == "" || len(v.Message) > 256 {
				t.Fatalf("%q: bad violation %+v", expr, v)
			}
		}
	})
}
