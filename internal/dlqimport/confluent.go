package dlqimport

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// fromConfluent reads a DlqAction dead-letter record: the original topic
// from __rule.topic (DlqAction names no partition or offset: the record was
// refused by a serializer before it had any, or by a deserializer that does
// not say), the subject from __rule.subject, and one RULE_VIOLATION naming
// the rule (__rule.name) with its exception (__rule.exception) as the
// message. A rule name that is an error type is one a gateway wrote
// (topics.dlq_headers dq+confluent) and gives that type back.
func fromConfluent(kr *kgo.Record) conversion {
	hs := kr.Headers
	c := conversion{origin: readOrigin(hs, pipeline.ConfluentHeaderTopic, "", "")}
	if !hasPrefix(hs, pipeline.ConfluentHeaderPrefix) {
		c.errs = []record.Violation{missing(FormatConfluent, kr, pipeline.ConfluentHeaderPrefix+"*")}
		return c
	}
	subject, _ := lastHeader(hs, pipeline.ConfluentHeaderSubject)
	c.subject = pipeline.HeaderText(subject, maxSubject)
	name := text(hs, pipeline.ConfluentHeaderName)
	mode := text(hs, pipeline.ConfluentHeaderMode)
	exc := text(hs, pipeline.ConfluentHeaderException)

	v := record.Violation{Type: record.RuleViolation, Keyword: name}
	if t := record.ErrorType(name); t.Known() {
		v.Type, v.Keyword = t, ""
	}
	var b strings.Builder
	switch {
	case exc != "":
		b.WriteString(exc)
	case name != "":
		fmt.Fprintf(&b, "rule %s failed (no exception message)", name)
	default:
		b.WriteString("a rule failed (no rule name or exception message)")
	}
	ctx := []string{"Confluent DlqAction"}
	for _, kv := range []struct{ name, value string }{{"rule", name}, {"mode", mode}, {"subject", c.subject}} {
		if kv.value != "" {
			ctx = append(ctx, kv.name+" "+kv.value)
		}
	}
	fmt.Fprintf(&b, " (%s; %s)", strings.Join(ctx, ", "), where(kr))
	v.Message = capMessage(withProblems(b.String(), c.origin))
	c.errs = []record.Violation{v}
	return c
}
