package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// RuleSet is a version's data-contract rules in Confluent's ruleSet shape
// (the "ruleSet" of a registration body). The registry stores any
// well-formed rule set, as Confluent's does: Confluent's clients run the
// rules in their serializers. The gateway itself runs the enabled domain
// rules of kind CONDITION and type CEL (see Specs); the others (migration
// and encoding rules, TRANSFORMs, JSONATA, CEL_FIELD, encryption) are
// stored and returned for clients to run.
type RuleSet struct {
	MigrationRules []Rule `json:"migrationRules,omitempty"`
	DomainRules    []Rule `json:"domainRules,omitempty"`
	EncodingRules  []Rule `json:"encodingRules,omitempty"`
	// EnableAt is where the rules run, as Confluent names it; stored,
	// not interpreted.
	EnableAt string `json:"enableAt,omitempty"`
}

// Rule is one data-contract rule, as Confluent spells it.
type Rule struct {
	Name string `json:"name"`
	Doc  string `json:"doc,omitempty"`
	// Kind is CONDITION (the only kind the gateway runs) or TRANSFORM, the
	// default.
	Kind string `json:"kind"`
	// Mode is WRITE, READ or WRITEREAD (the default) for domain and
	// encoding rules, UPGRADE, DOWNGRADE or UPDOWN for migration rules. It
	// is kept but not interpreted: the gateway checks every record it
	// reads.
	Mode string   `json:"mode"`
	Type string   `json:"type"`
	Tags []string `json:"tags,omitempty"`
	// Params: "message" is the violation's message, "field" the JSON
	// pointer it points at; others are kept.
	Params map[string]string `json:"params,omitempty"`
	Expr   string            `json:"expr,omitempty"`
	// OnSuccess and OnFailure are kept but not interpreted: a record that
	// fails a rule is quarantined.
	OnSuccess string `json:"onSuccess,omitempty"`
	OnFailure string `json:"onFailure,omitempty"`
	// Disabled rules are stored and not run.
	Disabled bool `json:"disabled,omitempty"`
}

// Rule kinds, modes and the type the gateway runs.
const (
	RuleKindCondition = "CONDITION"
	RuleKindTransform = "TRANSFORM"
	RuleTypeCEL       = "CEL"
)

// ruleModes are Confluent's rule modes, by the phase that allows them.
var (
	migrationModes = []string{"UPGRADE", "DOWNGRADE", "UPDOWN"}
	domainModes    = []string{"WRITE", "READ", "WRITEREAD"}
)

// maxRuleName is Confluent's limit on a rule's name.
const maxRuleName = 256

// runs reports whether the gateway runs r: a domain rule of kind CONDITION
// and type CEL.
func (r *Rule) runs() bool {
	return strings.EqualFold(r.Kind, RuleKindCondition) && strings.EqualFold(r.Type, RuleTypeCEL)
}

// Specs returns the rules the pipeline runs: the enabled domain rules of
// kind CONDITION and type CEL, in order. Nil when none.
func (rs *RuleSet) Specs() []rules.Spec {
	if rs == nil {
		return nil
	}
	var out []rules.Spec
	for _, r := range rs.DomainRules {
		if r.Disabled || !r.runs() {
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

// normalize checks rs as Confluent's registry does (RuleSet.validate: a
// legal, unique name per rule, a type, a mode its phase allows, several
// actions only with WRITEREAD and UPDOWN) and, since the gateway runs them,
// compiles the domain CEL conditions (disabled ones too: enabling one
// later must not bring a broken rule to the pipeline). It returns rs as
// stored: kinds and modes upper case, Confluent's defaults filled in (kind
// TRANSFORM, mode WRITEREAD, which a migration rule may not have, as in
// Confluent), tags sorted.
func (rs *RuleSet) normalize() (*RuleSet, error) {
	if rs == nil {
		return nil, nil
	}
	out := &RuleSet{EnableAt: rs.EnableAt}
	var problems []string
	names := map[string]bool{}
	var specs []rules.Spec
	var specAt []string  // where each spec came from, for compile errors
	var specNamed []bool // whether its name passed the checks above

	phases := []struct {
		name  string
		in    []Rule
		out   *[]Rule
		modes []string
	}{
		{"migrationRules", rs.MigrationRules, &out.MigrationRules, migrationModes},
		{"domainRules", rs.DomainRules, &out.DomainRules, domainModes},
		{"encodingRules", rs.EncodingRules, &out.EncodingRules, domainModes},
	}
	for _, ph := range phases {
		for i, r := range ph.in {
			at := fmt.Sprintf("%s[%d]%s", ph.name, i, named(r.Name))
			r.Kind = strings.ToUpper(strings.TrimSpace(r.Kind))
			r.Mode = strings.ToUpper(strings.TrimSpace(r.Mode))
			if r.Kind == "" {
				r.Kind = RuleKindTransform
			}
			if r.Mode == "" {
				r.Mode = "WRITEREAD"
			}
			r.Tags = sortedSet(r.Tags)
			nameOK := false
			if msg := ruleNameProblem(r.Name); msg != "" {
				problems = append(problems, at+": "+msg)
			} else if names[r.Name] {
				problems = append(problems, fmt.Sprintf("%s: found rule with duplicate name %q", at, r.Name))
			} else {
				nameOK = true
			}
			names[r.Name] = true
			if strings.TrimSpace(r.Type) == "" {
				problems = append(problems, at+": missing rule type")
			}
			if r.Kind != RuleKindCondition && r.Kind != RuleKindTransform {
				problems = append(problems, fmt.Sprintf("%s: kind %q (want CONDITION or TRANSFORM)", at, r.Kind))
			}
			if !slices.Contains(ph.modes, r.Mode) {
				problems = append(problems, fmt.Sprintf("%s: mode %q: %s can only be %s", at, r.Mode, ph.name, strings.Join(ph.modes, ", ")))
			}
			for _, action := range []string{r.OnSuccess, r.OnFailure} {
				if strings.Contains(action, ",") && r.Mode != "WRITEREAD" && r.Mode != "UPDOWN" {
					problems = append(problems, fmt.Sprintf("%s: multiple actions (%q) only valid with WRITEREAD and UPDOWN", at, action))
				}
			}
			if ph.name == "domainRules" && r.runs() {
				specs = append(specs, rules.Spec{Name: r.Name, Expr: r.Expr, Message: r.Params["message"], Field: r.Params["field"]})
				specAt = append(specAt, at)
				specNamed = append(specNamed, nameOK)
			}
			*ph.out = append(*ph.out, r)
		}
	}
	if _, err := rules.Compile(specs, rules.Options{}); err != nil {
		var ce *rules.CompileError
		if !errors.As(err, &ce) {
			return nil, fmt.Errorf("compiling the rule set: %w", err)
		}
		for _, p := range ce.Problems {
			key := p.Key
			if key == "message" || key == "field" {
				key = "params." + key
			}
			at := "domainRules"
			if p.Index >= 0 && p.Index < len(specAt) {
				if p.Key == "name" && !specNamed[p.Index] {
					continue // said above
				}
				at = specAt[p.Index]
			}
			problems = append(problems, fmt.Sprintf("%s.%s: %s", at, key, p.Message))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidRuleSet, strings.Join(problems, "; "))
	}
	return out, nil
}

// ruleNameProblem says what is wrong with a rule name, as Confluent's
// Rule.validateName does: a letter or _ first, then letters, digits, _
// and -, at most 256 characters.
func ruleNameProblem(name string) string {
	switch {
	case name == "":
		return "missing rule name"
	case utf8.RuneCountInString(name) > maxRuleName:
		return "rule name too long"
	}
	for i, c := range name {
		if i == 0 && !unicode.IsLetter(c) && c != '_' {
			return fmt.Sprintf("illegal initial character in rule name %q", name)
		}
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '_' && c != '-' {
			return fmt.Sprintf("illegal character in rule name %q", name)
		}
	}
	return ""
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

// ParseRuleSet decodes a Schema's RuleSet; nil for "".
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
