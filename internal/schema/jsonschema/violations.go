package jsonschema

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// A mapper turns the library's error tree into violations. The tree's inner
// nodes (the root, groups of sibling errors, $ref, allOf) only group; its
// leaves are the keywords that failed, each with the absolute location of
// the instance value, and each becomes one violation:
//
//   - required, dependentRequired, dependencies (array form): MISSING_FIELD,
//     one per missing property, at the property's own pointer;
//   - additionalProperties: false, unevaluatedProperties: false:
//     UNKNOWN_FIELD, one per property, at the property's pointer;
//   - type, pattern, enum, const, format: their own types; minimum,
//     maximum, exclusiveMinimum, exclusiveMaximum, multipleOf:
//     RANGE_VIOLATION; minLength, maxLength, minItems, maxItems,
//     minProperties, maxProperties, minContains, maxContains:
//     LENGTH_VIOLATION;
//   - anything else (false schema, not, uniqueItems, contains,
//     propertyNames, additionalItems, ...): SCHEMA_VIOLATION.
//
// Keywords that apply a subschema to the same value conditionally or
// conjunctively contribute their subschema's leaves: if/then/else the
// leaves of the branch that applied, dependentSchemas and dependencies
// (schema form) the leaves of the dependent schema, allOf those of every
// failed subschema.
//
// anyOf and oneOf (when nothing matched) are different: the leaves of the
// failed alternatives contradict each other (a value cannot be both a
// string and null), so listing them would blame the producer for breaking
// rules that never applied. An alternative that failed only because the
// value has another type (a "type" leaf at the value itself) is treated as
// not meant for this value. Then:
//
//   - no alternative was meant for the value: one TYPE_MISMATCH, keyword
//     anyOf/oneOf, "got number, want string or null" (the common nullable
//     field, anyOf: [{type: string}, {type: null}]);
//   - exactly one was: its leaves, as if it were the only schema (a string
//     failing the pattern of that nullable field is a PATTERN_MISMATCH);
//   - several were: one SCHEMA_VIOLATION at the value, keyword anyOf/oneOf,
//     "value matches none of the N alternatives".
//
// oneOf matching more than one alternative is one SCHEMA_VIOLATION.
//
// The library walks Go maps, so the order of the tree is random; violations
// are sorted by field, keyword, type and message, and exact duplicates (two
// allOf branches requiring the same property) are dropped.
type mapper struct {
	v   any // the validated value; nil when unknown
	out []record.Violation
	// usedPN records the objects already blamed for an invalid property
	// name; see propertyNames.
	usedPN map[string]bool
}

func newMapper(v any) *mapper { return &mapper{v: v} }

func (m *mapper) violations(verr *jsv.ValidationError, dst []record.Violation) []record.Violation {
	start := len(dst)
	m.out = dst
	m.walk(verr, nil)
	vs := m.out[start:]
	slices.SortFunc(vs, func(a, b record.Violation) int {
		return cmp.Or(
			strings.Compare(a.Field, b.Field),
			strings.Compare(a.Keyword, b.Keyword),
			strings.Compare(string(a.Type), string(b.Type)),
			strings.Compare(a.Message, b.Message),
		)
	})
	vs = slices.Compact(vs)
	return m.out[:start+len(vs)]
}

func (m *mapper) add(t record.ErrorType, field, keyword, msg string) {
	m.out = append(m.out, record.Violation{Type: t, Field: field, Keyword: keyword, Message: msg})
}

// walk maps e and its causes. anc is the instance location of the nearest
// ancestor in the tree, a prefix of e's.
func (m *mapper) walk(e *jsv.ValidationError, anc []string) {
	switch e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		// Grouping nodes need no pointer: a tree as deep as the value (a
		// recursive schema) would build one per level, the depth squared.
		for _, c := range e.Causes {
			m.walk(c, e.InstanceLocation)
		}
		return
	}
	ptr := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.AnyOf:
		m.alternatives(e, "anyOf")
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			m.alternatives(e, "oneOf")
			break
		}
		m.add(record.SchemaViolation, ptr, "oneOf", fmt.Sprintf(
			"value matches alternatives %d and %d, but oneOf requires exactly one", k.Subschemas[0], k.Subschemas[1]))

	case *kind.Required:
		for _, p := range k.Missing {
			m.add(record.MissingField, child(ptr, p), "required", "missing required property "+quote(p))
		}
	case *kind.DependentRequired:
		for _, p := range k.Missing {
			m.add(record.MissingField, child(ptr, p), "dependentRequired", fmt.Sprintf(
				"missing property %s, required when %s is present", quote(p), quote(k.Prop)))
		}
	case *kind.Dependency:
		for _, p := range k.Missing {
			m.add(record.MissingField, child(ptr, p), "dependencies", fmt.Sprintf(
				"missing property %s, required when %s is present", quote(p), quote(k.Prop)))
		}

	case *kind.Type:
		m.add(record.TypeMismatch, ptr, "type", fmt.Sprintf("got %s, want %s", k.Got, strings.Join(k.Want, " or ")))
	case *kind.Pattern:
		m.add(record.PatternMismatch, ptr, "pattern", fmt.Sprintf(
			"value %s does not match pattern %s", quote(k.Got), clip(k.Want, maxMsgValue)))
	case *kind.Enum:
		m.add(record.EnumViolation, ptr, "enum", fmt.Sprintf("value %s is not one of %s", display(k.Got), displayList(k.Want)))
	case *kind.Const:
		m.add(record.ConstViolation, ptr, "const", fmt.Sprintf("value %s is not the constant %s", display(k.Got), display(k.Want)))
	case *kind.Format:
		msg := fmt.Sprintf("value %s is not a valid %s", display(k.Got), k.Want)
		if k.Err != nil {
			msg += ": " + clip(k.Err.Error(), maxMsgValue)
		}
		m.add(record.FormatViolation, ptr, "format", msg)

	case *kind.Minimum:
		m.add(record.RangeViolation, ptr, "minimum", fmt.Sprintf(
			"value %s is less than the minimum %s", ratString(k.Got), ratString(k.Want)))
	case *kind.Maximum:
		m.add(record.RangeViolation, ptr, "maximum", fmt.Sprintf(
			"value %s is greater than the maximum %s", ratString(k.Got), ratString(k.Want)))
	case *kind.ExclusiveMinimum:
		m.add(record.RangeViolation, ptr, "exclusiveMinimum", fmt.Sprintf(
			"value %s is not greater than the exclusive minimum %s", ratString(k.Got), ratString(k.Want)))
	case *kind.ExclusiveMaximum:
		m.add(record.RangeViolation, ptr, "exclusiveMaximum", fmt.Sprintf(
			"value %s is not less than the exclusive maximum %s", ratString(k.Got), ratString(k.Want)))
	case *kind.MultipleOf:
		m.add(record.RangeViolation, ptr, "multipleOf", fmt.Sprintf(
			"value %s is not a multiple of %s", ratString(k.Got), ratString(k.Want)))

	case *kind.MinLength:
		m.add(record.LengthViolation, ptr, "minLength", fmt.Sprintf(
			"string has %s, fewer than minLength %d", plural(k.Got, "character"), k.Want))
	case *kind.MaxLength:
		m.add(record.LengthViolation, ptr, "maxLength", fmt.Sprintf(
			"string has %s, more than maxLength %d", plural(k.Got, "character"), k.Want))
	case *kind.MinItems:
		m.add(record.LengthViolation, ptr, "minItems", fmt.Sprintf(
			"array has %s, fewer than minItems %d", plural(k.Got, "item"), k.Want))
	case *kind.MaxItems:
		m.add(record.LengthViolation, ptr, "maxItems", fmt.Sprintf(
			"array has %s, more than maxItems %d", plural(k.Got, "item"), k.Want))
	case *kind.MinProperties:
		m.add(record.LengthViolation, ptr, "minProperties", fmt.Sprintf(
			"object has %s, fewer than minProperties %d", plural(k.Got, "property"), k.Want))
	case *kind.MaxProperties:
		m.add(record.LengthViolation, ptr, "maxProperties", fmt.Sprintf(
			"object has %s, more than maxProperties %d", plural(k.Got, "property"), k.Want))
	case *kind.MinContains:
		m.add(record.LengthViolation, ptr, "minContains", fmt.Sprintf(
			"%s contains, fewer than minContains %d", matching(len(k.Got)), k.Want))
	case *kind.MaxContains:
		m.add(record.LengthViolation, ptr, "maxContains", fmt.Sprintf(
			"%s contains, more than maxContains %d", matching(len(k.Got)), k.Want))

	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			m.add(record.UnknownField, child(ptr, p), "additionalProperties", "property "+quote(p)+" is not allowed")
		}
	case *kind.FalseSchema:
		kw := falseSchemaKeyword(e.SchemaURL)
		if kw == "unevaluatedProperties" && len(e.InstanceLocation) > 0 {
			p := e.InstanceLocation[len(e.InstanceLocation)-1]
			m.add(record.UnknownField, ptr, kw, "property "+quote(p)+" is not allowed (no subschema evaluates it)")
			break
		}
		m.add(record.SchemaViolation, ptr, kw, "value is not allowed here (the schema is false)")

	case *kind.PropertyNames:
		m.propertyNames(e, k, anc)
	case *kind.Contains:
		m.add(record.SchemaViolation, ptr, "contains", "no item matches the contains schema")
	case *kind.Not:
		m.add(record.SchemaViolation, ptr, "not", `value matches the "not" schema`)
	case *kind.UniqueItems:
		m.add(record.SchemaViolation, ptr, "uniqueItems", fmt.Sprintf(
			"items %d and %d are equal, but uniqueItems requires distinct items", k.Duplicates[0], k.Duplicates[1]))
	case *kind.AdditionalItems:
		msg := fmt.Sprintf("%d items after the tuple are not allowed (additionalItems is false)", k.Count)
		if k.Count == 1 {
			msg = "1 item after the tuple is not allowed (additionalItems is false)"
		}
		m.add(record.SchemaViolation, ptr, "additionalItems", msg)
	default:
		// RefCycle, InvalidJsonValue, and content keywords (not asserted).
		kw := ""
		if p := e.ErrorKind.KeywordPath(); len(p) > 0 {
			kw = p[len(p)-1]
		}
		m.add(record.SchemaViolation, ptr, kw, clip(e.ErrorKind.LocalizedString(printer), 2*maxMsgValue))
	}
}

var printer = message.NewPrinter(language.English)

// alternatives maps a failed anyOf or oneOf; see mapper.
func (m *mapper) alternatives(e *jsv.ValidationError, kw string) {
	ptr := pointer(e.InstanceLocation)
	var (
		meant      []*jsv.ValidationError
		got        string
		wantTypes  []string
		depth      = len(e.InstanceLocation)
		typeLeaves []*jsv.ValidationError
	)
	for _, alt := range e.Causes {
		typeLeaves = leaves(alt, typeLeaves[:0])
		onlyType := len(typeLeaves) > 0
		for _, l := range typeLeaves {
			t, ok := l.ErrorKind.(*kind.Type)
			if !ok || len(l.InstanceLocation) != depth {
				onlyType = false
				break
			}
			got = t.Got
		}
		if !onlyType {
			meant = append(meant, alt)
			continue
		}
		for _, l := range typeLeaves {
			for _, w := range l.ErrorKind.(*kind.Type).Want {
				if !slices.Contains(wantTypes, w) {
					wantTypes = append(wantTypes, w)
				}
			}
		}
	}
	switch {
	case len(e.Causes) == 0:
		m.add(record.SchemaViolation, ptr, kw, "value matches none of the alternatives")
	case len(meant) == 0:
		m.add(record.TypeMismatch, ptr, kw, fmt.Sprintf("got %s, want %s", got, strings.Join(wantTypes, " or ")))
	case len(meant) == 1:
		m.walk(meant[0], e.InstanceLocation)
	default:
		m.add(record.SchemaViolation, ptr, kw, fmt.Sprintf("value matches none of the %d alternatives", len(e.Causes)))
	}
}

// leaves appends the errors under e that are not mere groupings.
func leaves(e *jsv.ValidationError, dst []*jsv.ValidationError) []*jsv.ValidationError {
	switch e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		for _, c := range e.Causes {
			dst = leaves(c, dst)
		}
		return dst
	}
	return append(dst, e)
}

// propertyNames maps an invalid property name to a SCHEMA_VIOLATION at the
// property's pointer, with the reasons from the propertyNames subschema.
//
// The library reports its instance location wrongly (jsonschema v6 issue
// #258): the causes carry an empty location, and the error itself shares
// its location slice with sibling validations that run later and overwrite
// it, so {"a": {"BAD": 1}, "c": {}} can blame "/c". The location is
// therefore checked against the value: it is kept when it names an object
// that has the property; otherwise the objects at the same depth below the
// nearest trustworthy ancestor are searched for one that has it, in
// document order, each object blamed once per name. If none is found the
// ancestor is blamed. A sibling that happens to have the same invalid key
// can still be blamed instead of the right object: rare, and the message
// names the property either way.
func (m *mapper) propertyNames(e *jsv.ValidationError, k *kind.PropertyNames, anc []string) {
	loc := m.locateObject(e.InstanceLocation, anc, k.Property)
	var sub mapper
	for _, c := range e.Causes {
		sub.walk(c, nil)
	}
	reasons := make([]string, 0, len(sub.out))
	for _, v := range sub.out {
		if !slices.Contains(reasons, v.Message) {
			reasons = append(reasons, v.Message)
		}
	}
	slices.Sort(reasons)
	msg := "property name " + quote(k.Property) + " is not allowed"
	if len(reasons) > 0 {
		msg += ": " + clip(strings.Join(reasons, "; "), 2*maxMsgValue)
	}
	m.add(record.SchemaViolation, child(pointer(loc), k.Property), "propertyNames", msg)
}

func (m *mapper) locateObject(reported, anc []string, prop string) []string {
	if m.v == nil {
		return reported
	}
	if m.usedPN == nil {
		m.usedPN = map[string]bool{}
	}
	claim := func(loc []string) bool {
		key := pointer(loc) + "\x00" + prop
		if m.usedPN[key] {
			return false
		}
		m.usedPN[key] = true
		return true
	}
	if !hasPrefix(reported, anc) {
		return anc // cannot happen: the ancestor's location is a prefix
	}
	if obj, ok := resolve(m.v, reported).(map[string]any); ok {
		if _, has := obj[prop]; has && claim(reported) {
			return reported
		}
	}
	cands := findObjects(resolve(m.v, anc), slices.Clone(anc), len(reported)-len(anc), prop, nil)
	for _, c := range cands {
		if claim(c) {
			return c
		}
	}
	if len(cands) > 0 {
		return cands[0]
	}
	return anc
}

func hasPrefix(s, prefix []string) bool {
	return len(s) >= len(prefix) && slices.Equal(s[:len(prefix)], prefix)
}

// resolve returns the value at loc in v, or nil.
func resolve(v any, loc []string) any {
	for _, tok := range loc {
		switch c := v.(type) {
		case map[string]any:
			v = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// findObjects appends the locations of the objects depth levels below v
// (at loc) that have the property prop, in document order (object members
// by key).
func findObjects(v any, loc []string, depth int, prop string, dst [][]string) [][]string {
	switch c := v.(type) {
	case map[string]any:
		if depth == 0 {
			if _, ok := c[prop]; ok {
				dst = append(dst, slices.Clone(loc))
			}
			return dst
		}
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			dst = findObjects(c[k], append(loc, k), depth-1, prop, dst)
		}
	case []any:
		if depth == 0 {
			return dst
		}
		for i, e := range c {
			dst = findObjects(e, append(loc, strconv.Itoa(i)), depth-1, prop, dst)
		}
	}
	return dst
}

// falseSchemaKeyword names the keyword holding the false schema at the
// schema location u: "properties" for #/properties/a, "items" for #/items,
// "unevaluatedProperties" for #/unevaluatedProperties. A false root schema,
// or one reached through $defs, is "false".
func falseSchemaKeyword(u string) string {
	_, frag, _ := strings.Cut(u, "#")
	toks := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	kw := ""
	for i := 0; i < len(toks); i++ {
		kw = toks[i]
		switch kw {
		case "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies",
			"allOf", "anyOf", "oneOf", "prefixItems":
			i++ // the next token names a subschema, it is not a keyword
		case "items":
			if i+1 < len(toks) && isIndex(toks[i+1]) {
				i++
			}
		}
	}
	switch kw {
	case "", "$defs", "definitions":
		return "false"
	}
	return kw
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return strconv.Itoa(n) + " " + noun[:len(noun)-1] + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// matching says how many items match: "1 item matches", "2 items match".
func matching(n int) string {
	if n == 1 {
		return "1 item matches"
	}
	return strconv.Itoa(n) + " items match"
}

// displayList renders enum values for a message, at most 10.
func displayList(vs []any) string {
	const maxShown = 10
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == maxShown {
			fmt.Fprintf(&b, "… (%d more)", len(vs)-maxShown)
			break
		}
		b.WriteString(display(v))
	}
	return b.String()
}

// ratString renders a number from a numeric keyword's error: exactly when
// it is a short integer, otherwise as the nearest float64.
func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		if s := r.Num().String(); len(s) <= 20 {
			return s
		}
	}
	if f, _ := r.Float64(); !math.IsInf(f, 0) && (f != 0 || r.Sign() == 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return clip(r.FloatString(3), 40)
}
