package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// DefaultCostLimit is the default bound on one evaluation of one rule, in
// CEL cost units (roughly one per operation, more for operations on long
// strings and lists). A four-clause rule costs about 10; the limit allows a
// comprehension over some hundred thousand list elements and stops a runaway
// rule after about 70 ms of CPU on the reference machine. It is the
// per-expression default Kubernetes uses for its CEL validation rules.
const DefaultCostLimit = 1_000_000

// Limits on a rule's name and on the messages the layer produces.
const (
	maxNameLen    = 128
	maxMessageLen = 256
)

// Spec is one business rule as configured.
type Spec struct {
	// Name identifies the rule: the violation's keyword, and the rule label
	// of metrics. Letters, digits, '_', '.' and '-', starting with a letter
	// or '_', at most 128 characters; unique within a Set. Required.
	Name string `json:"name" yaml:"name"`
	// Expr is the CEL expression, true when the record is valid. It sees the
	// decoded record as message and the current time as now. Required.
	Expr string `json:"expr" yaml:"expr"`
	// Message is the violation's message when Expr is false. Default
	// "failed rule NAME: EXPR".
	Message string `json:"message" yaml:"message"`
	// Field is where the violation points, a JSON pointer such as
	// "/timestamp". Default "" (the whole record).
	Field string `json:"field" yaml:"field"`
}

// Options configure Compile.
type Options struct {
	// CostLimit bounds the work of one evaluation of one rule, in CEL cost
	// units; a rule that would exceed it is a violation of that rule.
	// Default DefaultCostLimit.
	CostLimit uint64
}

// Set is a compiled list of rules. It is immutable and safe for concurrent
// use; a nil *Set has no rules.
type Set struct {
	rules     []rule
	costLimit uint64
}

type rule struct {
	name, message, field string
	prg                  cel.Program
}

// Compile parses and type-checks every spec. A rule is refused when its
// name is missing, malformed or repeated, its field is not a JSON pointer,
// or its expression does not compile or cannot return a bool; every problem
// is reported, in a *CompileError naming the rule and the key at fault.
// Compiling no specs gives an empty Set.
func Compile(specs []Spec, opts Options) (*Set, error) {
	if opts.CostLimit == 0 {
		opts.CostLimit = DefaultCostLimit
	}
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("building the CEL environment: %w", err)
	}
	s := &Set{rules: make([]rule, 0, len(specs)), costLimit: opts.CostLimit}
	var problems []Problem
	seen := make(map[string]int, len(specs))
	for i, spec := range specs {
		bad := func(key, format string, args ...any) {
			problems = append(problems, Problem{Index: i, Name: spec.Name, Key: key, Message: fmt.Sprintf(format, args...)})
		}
		if msg := checkName(spec.Name); msg != "" {
			bad("name", "%s", msg)
		} else if j, dup := seen[spec.Name]; dup {
			bad("name", "%q is already the name of rules[%d]", spec.Name, j)
		} else {
			seen[spec.Name] = i
		}
		if spec.Field != "" && !strings.HasPrefix(spec.Field, "/") {
			bad("field", "%q is not a JSON pointer (it must start with /, e.g. /timestamp)", record.Truncate(spec.Field, maxMessageLen))
		}
		if len(spec.Message) > maxMessageLen {
			bad("message", "is %d bytes long, at most %d are allowed", len(spec.Message), maxMessageLen)
		}
		prg, msg := compileExpr(e, spec.Expr, opts.CostLimit)
		if msg != "" {
			bad("expr", "%s", msg)
			continue
		}
		message := spec.Message
		if message == "" {
			message = record.Truncate("failed rule "+spec.Name+": "+spec.Expr, maxMessageLen)
		}
		s.rules = append(s.rules, rule{name: spec.Name, message: message, field: spec.Field, prg: prg})
	}
	if len(problems) > 0 {
		return nil, &CompileError{Problems: problems}
	}
	return s, nil
}

func checkName(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > maxNameLen:
		return fmt.Sprintf("is %d characters long, at most %d are allowed", len(name), maxNameLen)
	}
	for i, r := range name {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '.' || r == '-')) {
			return fmt.Sprintf("%q: use letters, digits, '_', '.' and '-', starting with a letter or '_'", record.Truncate(name, maxMessageLen))
		}
	}
	return ""
}

// maxCompileErrors is the most compiler errors quoted for one rule.
const maxCompileErrors = 3

// compileExpr compiles one expression into a program, or returns the
// compiler's message.
func compileExpr(e *cel.Env, expr string, costLimit uint64) (cel.Program, string) {
	if strings.TrimSpace(expr) == "" {
		return nil, "must not be empty"
	}
	ast, iss := e.Compile(expr)
	if iss.Err() != nil {
		errs := iss.Errors()
		parts := make([]string, 0, maxCompileErrors+1)
		for i, ce := range errs {
			if i == maxCompileErrors {
				parts = append(parts, fmt.Sprintf("and %d more", len(errs)-i))
				break
			}
			msg := ce.Message
			if msg == "undeclared reference to 'this'" {
				msg += " (the record is message)"
			}
			parts = append(parts, fmt.Sprintf("%d:%d: %s", ce.Location.Line(), ce.Location.Column()+1, msg))
		}
		return nil, strings.Join(parts, "; ")
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) && !t.IsExactType(types.DynType) {
		return nil, fmt.Sprintf("must evaluate to a bool, not %s", t)
	}
	// OptOptimize folds constants and compiles regex literals once, here,
	// instead of on every record.
	prg, err := e.Program(ast, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, err.Error()
	}
	return prg, ""
}

// Join returns the rules of sets, in order, as one Set: a schema version's
// rules from two sources (the configuration's, then the registry's). Names
// may repeat across sets; each rule reports its own. The sets are expected
// to share their Options; the result reports the largest cost limit. Nil
// sets are skipped; Join of no rules is nil.
func Join(sets ...*Set) *Set {
	var out *Set
	for _, s := range sets {
		if s.Len() == 0 {
			continue
		}
		if out == nil {
			out = &Set{}
		}
		out.rules = append(out.rules, s.rules...)
		out.costLimit = max(out.costLimit, s.costLimit)
	}
	return out
}

// Len returns the number of rules in s.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// Names returns the rules' names, in order.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	names := make([]string, len(s.rules))
	for i, r := range s.rules {
		names[i] = r.name
	}
	return names
}

// Eval runs every rule on decoded (a value as the decoders produce it) at
// time now, appending one RULE_VIOLATION per rule that does not hold to dst:
// Keyword is the rule's name, Field its field, Message its message. A rule
// that fails to evaluate (a missing field, a bad timestamp, the cost limit)
// or returns something other than a bool is a violation too, with what went
// wrong as the message. Eval never fails and never blocks: every evaluation
// is bounded by the cost limit.
func (s *Set) Eval(decoded any, now time.Time, dst []record.Violation) []record.Violation {
	if s == nil || len(s.rules) == 0 {
		return dst
	}
	act := newActivation(decoded, now)
	for i := range s.rules {
		r := &s.rules[i]
		out, _, err := r.prg.Eval(act)
		var msg string
		switch {
		case err != nil:
			msg = s.evalError(err)
		case out == types.True:
			continue
		case out == types.False:
			msg = r.message
		default:
			msg = fmt.Sprintf("rule returned %s, not a bool", out.Type().TypeName())
		}
		dst = append(dst, record.Violation{Type: record.RuleViolation, Field: r.field, Keyword: r.name, Message: msg})
	}
	return dst
}

func (s *Set) evalError(err error) string {
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return fmt.Sprintf("rule could not be evaluated: it exceeded the cost limit of %d", s.costLimit)
	}
	// Runtime errors may quote the record ("invalid RFC 3339 timestamp
	// ..."), so they are cut to a size fit for a header.
	return record.Truncate("rule could not be evaluated: "+err.Error(), maxMessageLen)
}
