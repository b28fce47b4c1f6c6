package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// RuleSet is a version's data-contract rules in Confluent's ruleSet shape
// (the "ruleSet" of a registration body). The gateway runs domain rules of
// kind CONDITION and type CEL; Register refuses any other rule, so a stored
// RuleSet is always one the pipeline can run.
type RuleSet struct {
	MigrationRules []Rule `json:"migrationRules,omitempty"`
	DomainRules    []Rule `json:"domainRules,omitempty"`
	EncodingRules  []Rule `json:"encodingRules,omitempty"`
}

// Rule is one data-contract rule, as Confluent spells it.
type Rule struct {
	Name string `json:"name"`
	Doc  string `json:"doc,omitempty"`
	// Kind is CONDITION (the only kind the gateway runs) or TRANSFORM.
	Kind string `json:"kind"`
	// Mode (WRITE, READ, WRITEREAD, ...) is kept but not interpreted: the
	// gateway checks every record it reads.
	Mode string   `json:"mode"`
	Type string   `json:"type"`
	Tags []string `json:"tags,omitempty"`
	// Params: "message" is the violation's message, "field" the JSON
	// pointer it points at; others are kept.
	Params map[string]string `json:"params,omitempty"`
	Expr   string            `json:"expr"`
	// OnSuccess and OnFailure are kept but not interpreted: a record that
	// fails a rule is quarantined.
	OnSuccess string `json:"onSuccess,omitempty"`
	OnFailure string `json:"onFailure,omitempty"`
	// Disabled rules are stored and not run.
	Disabled bool `json:"disabled,omitempty"`
}

// Rule kinds and types the gateway runs.
const (
	RuleKindCondition = "CONDITION"
	RuleTypeCEL       = "CEL"
)

// Specs returns the rules the pipeline runs: the enabled domain
// conditions, in order. Nil when none.
func (rs *RuleSet) Specs() []rules.Spec {
	if rs == nil {
		return nil
	}
	var out []rules.Spec
	for _, r := range rs.DomainRules {
		if r.Disabled {
			continue
		}
		out = append(out, rules.Spec{Name: r.Name, Expr: r.Expr, Message: r.Params["message"], Field: r.Params["field"]})
	}
	return out
}

// RuleSetOf returns specs as a rule set: domain rules of kind CONDITION,
// type CEL and mode WRITE, with the message and field as params. It is
// how rules written as in the configuration are registered.
func RuleSetOf(specs []rules.Spec) *RuleSet {
	if len(specs) == 0 {
		return nil
	}
	rs := &RuleSet{DomainRules: make([]Rule, 0, len(specs))}
	for _, s := range specs {
		var params map[string]string
		if s.Message != "" || s.Field != "" {
			params = map[string]string{}
			if s.Message != "" {
				params["message"] = s.Message
			}
			if s.Field != "" {
				params["field"] = s.Field
			}
		}
		rs.DomainRules = append(rs.DomainRules, Rule{Name: s.Name, Kind: RuleKindCondition, Mode: "WRITE", Type: RuleTypeCEL, Expr: s.Expr, Params: params})
	}
	return rs
}

// check refuses what the gateway cannot run: migration and encoding rules,
// domain rules other than CEL conditions, and CEL that does not compile.
func (rs *RuleSet) check() error {
	if rs == nil {
		return nil
	}
	var problems []string
	if n := len(rs.MigrationRules); n > 0 {
		problems = append(problems, fmt.Sprintf("migrationRules: %d given, the gateway runs domain rules only", n))
	}
	if n := len(rs.EncodingRules); n > 0 {
		problems = append(problems, fmt.Sprintf("encodingRules: %d given, the gateway runs domain rules only", n))
	}
	specs := make([]rules.Spec, 0, len(rs.DomainRules))
	for i, r := range rs.DomainRules {
		if !strings.EqualFold(r.Kind, RuleKindCondition) || !strings.EqualFold(r.Type, RuleTypeCEL) {
			problems = append(problems, fmt.Sprintf("domainRules[%d]%s: kind %q, type %q: the gateway runs only kind CONDITION, type CEL", i, named(r.Name), r.Kind, r.Type))
		}
		// Disabled rules are compiled too: enabling one later must not
		// bring a broken rule to the pipeline.
		specs = append(specs, rules.Spec{Name: r.Name, Expr: r.Expr, Message: r.Params["message"], Field: r.Params["field"]})
	}
	if _, err := rules.Compile(specs, rules.Options{}); err != nil {
		var ce *rules.CompileError
		if !errors.As(err, &ce) {
			return fmt.Errorf("compiling the rule set: %w", err)
		}
		for _, p := range ce.Problems {
			key := p.Key
			if key == "message" || key == "field" {
				key = "params." + key
			}
			problems = append(problems, fmt.Sprintf("domainRules[%d]%s.%s: %s", p.Index, named(p.Name), key, p.Message))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidRuleSet, strings.Join(problems, "; "))
	}
	return nil
}

func named(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

// encodeRuleSet returns rs as stored: canonical JSON, "" for no rules.
func encodeRuleSet(rs *RuleSet) (string, error) {
	if rs == nil || len(rs.DomainRules)+len(rs.MigrationRules)+len(rs.EncodingRules) == 0 {
		return "", nil
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return "", fmt.Errorf("encoding the rule set: %w", err)
	}
	return string(b), nil
}

// ParseRuleSet decodes a Version's RuleSet; nil for "".
func ParseRuleSet(s string) (*RuleSet, error) {
	if s == "" {
		return nil, nil
	}
	var rs RuleSet
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		return nil, fmt.Errorf("decoding a stored rule set: %w", err)
	}
	return &rs, nil
}
