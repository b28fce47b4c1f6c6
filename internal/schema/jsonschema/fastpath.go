package jsonschema

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
)

// The fast path decides whether a value is valid without building errors.
//
// The library's validator allocates a scope, an evaluation record and its
// own state for every value it visits, which makes it cost about ten times
// the decoding of an event. Most records are valid, and a valid record needs
// no error tree: so Validate first asks the fast path, which evaluates the
// same compiled schema (the library's exported *jsv.Schema fields) as a
// plain boolean, and calls the library only when the fast path says
// "invalid" or cannot decide. A wrong "invalid" costs only time; a wrong
// "valid" would let bad data through, so the fast path supports the common
// keywords only, mirrors the library's evaluation order and draft rules, and
// is checked against the library on the whole official test suite and by
// fuzzing (fastpath_test.go).
//
// Schemas that use unevaluatedProperties, unevaluatedItems, $recursiveRef,
// $dynamicRef, content assertions or vocabulary extensions get no fast path
// (fastNode is nil): every record goes to the library.

type fastNode struct {
	always *bool // a boolean schema
	draft  int

	ref    *fastNode
	types  uint8  // typeXxx bits; 0: any type
	enum   *[]any // nil: absent; an empty enum rejects everything
	konst  *any
	format func(any) error

	minProps, maxProps int // -1: absent
	required           []string
	props              map[string]*fastNode
	patternProps       []fastPattern
	additional         *fastNode // nil: absent
	depRequired        map[string][]string
	depSchemas         map[string]*fastNode
	propertyNames      *fastNode

	minItems, maxItems int
	unique             bool
	prefixItems        []*fastNode
	items              *fastNode // items after prefixItems (or all, when no prefix)
	contains           *fastNode
	minContains        int // -1: absent
	maxContains        int

	minLen, maxLen int
	pattern        jsv.Regexp

	minimum, maximum, exclMinimum, exclMaximum, multipleOf *big.Rat
	// The same bounds as int64, when they are integers that fit: most
	// schemas bound numbers by integers, which decimal literals compare
	// with exactly without math/big.
	intBounds                                                        bool
	minInt, maxInt, exclMinInt, exclMaxInt, multipleOfInt            int64
	hasMin, hasMax, hasExclMin, hasExclMax, hasMultipleOf, isNumeric bool

	allOf, anyOf, oneOf []*fastNode
	not                 *fastNode
	ifN, thenN, elseN   *fastNode
}

type fastPattern struct {
	re jsv.Regexp
	n  *fastNode
}

const (
	typeNull uint8 = 1 << iota
	typeBoolean
	typeNumber
	typeInteger
	typeString
	typeArray
	typeObject
)

var typeBits = map[string]uint8{
	"null": typeNull, "boolean": typeBoolean, "number": typeNumber, "integer": typeInteger,
	"string": typeString, "array": typeArray, "object": typeObject,
}

var (
	alwaysTrue  = true
	alwaysFalse = false
)

// newFastPath builds the fast path of sch, or nil when sch reaches a keyword
// the fast path does not support.
func newFastPath(sch *jsv.Schema) *fastNode {
	b := fastBuilder{nodes: map[*jsv.Schema]*fastNode{}}
	n := b.node(sch)
	if b.unsupported {
		return nil
	}
	return n
}

type fastBuilder struct {
	nodes       map[*jsv.Schema]*fastNode
	unsupported bool
}

func (b *fastBuilder) node(s *jsv.Schema) *fastNode {
	if s == nil {
		return nil
	}
	if n, ok := b.nodes[s]; ok {
		return n // shared or recursive: built once
	}
	n := &fastNode{
		draft: s.DraftVersion, minProps: -1, maxProps: -1, minItems: -1, maxItems: -1,
		minContains: -1, maxContains: -1, minLen: -1, maxLen: -1,
	}
	b.nodes[s] = n
	if s.Bool != nil {
		n.always = &alwaysFalse
		if *s.Bool {
			n.always = &alwaysTrue
		}
		return n
	}
	if s.UnevaluatedProperties != nil || s.UnevaluatedItems != nil || s.RecursiveRef != nil || s.DynamicRef != nil ||
		len(s.Extensions) > 0 || s.ContentEncoding != nil || s.ContentMediaType != nil || s.ContentSchema != nil {
		b.unsupported = true
		return n
	}
	n.ref = b.node(s.Ref)
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			n.types |= typeBits[t]
		}
	}
	if s.Enum != nil {
		n.enum = &s.Enum.Values
	}
	n.konst = s.Const
	if s.Format != nil {
		n.format = s.Format.Validate
	}

	n.minProps, n.maxProps = intOr(s.MinProperties), intOr(s.MaxProperties)
	n.required = s.Required
	if len(s.Properties) > 0 {
		n.props = make(map[string]*fastNode, len(s.Properties))
		for k, p := range s.Properties {
			n.props[k] = b.node(p)
		}
	}
	for re, p := range s.PatternProperties {
		n.patternProps = append(n.patternProps, fastPattern{re, b.node(p)})
	}
	n.additional = b.additional(s.AdditionalProperties)
	for k, dep := range s.Dependencies {
		switch dep := dep.(type) {
		case []string:
			n.addDepRequired(k, dep)
		case *jsv.Schema:
			n.addDepSchema(k, b.node(dep))
		}
	}
	if s.DraftVersion > 6 {
		for k, dep := range s.DependentRequired {
			n.addDepRequired(k, dep)
		}
		for k, dep := range s.DependentSchemas {
			n.addDepSchema(k, b.node(dep))
		}
	}
	if s.DraftVersion != 4 {
		n.propertyNames = b.node(s.PropertyNames)
	}

	n.minItems, n.maxItems = intOr(s.MinItems), intOr(s.MaxItems)
	n.unique = s.UniqueItems
	if s.DraftVersion < 2020 {
		switch items := s.Items.(type) {
		case *jsv.Schema:
			n.items = b.node(items)
		case []*jsv.Schema:
			for _, it := range items {
				n.prefixItems = append(n.prefixItems, b.node(it))
			}
			n.items = b.additional(s.AdditionalItems)
		}
	} else {
		for _, it := range s.PrefixItems {
			n.prefixItems = append(n.prefixItems, b.node(it))
		}
		n.items = b.node(s.Items2020)
	}
	n.contains = b.node(s.Contains)
	n.minContains, n.maxContains = intOr(s.MinContains), intOr(s.MaxContains)

	n.minLen, n.maxLen = intOr(s.MinLength), intOr(s.MaxLength)
	n.pattern = s.Pattern

	n.minimum, n.maximum = s.Minimum, s.Maximum
	n.exclMinimum, n.exclMaximum, n.multipleOf = s.ExclusiveMinimum, s.ExclusiveMaximum, s.MultipleOf
	n.initIntBounds()

	for _, x := range s.AllOf {
		n.allOf = append(n.allOf, b.node(x))
	}
	for _, x := range s.AnyOf {
		n.anyOf = append(n.anyOf, b.node(x))
	}
	for _, x := range s.OneOf {
		n.oneOf = append(n.oneOf, b.node(x))
	}
	n.not = b.node(s.Not)
	n.ifN, n.thenN, n.elseN = b.node(s.If), b.node(s.Then), b.node(s.Else)
	return n
}

// additional maps additionalProperties or additionalItems: a bool or a schema.
func (b *fastBuilder) additional(a any) *fastNode {
	switch a := a.(type) {
	case bool:
		if a {
			return &fastNode{always: &alwaysTrue}
		}
		return &fastNode{always: &alwaysFalse}
	case *jsv.Schema:
		return b.node(a)
	}
	return nil
}

func (n *fastNode) addDepRequired(k string, req []string) {
	if n.depRequired == nil {
		n.depRequired = map[string][]string{}
	}
	n.depRequired[k] = append(n.depRequired[k], req...)
}

func (n *fastNode) addDepSchema(k string, d *fastNode) {
	if n.depSchemas == nil {
		n.depSchemas = map[string]*fastNode{}
	}
	if prev, ok := n.depSchemas[k]; ok {
		d = &fastNode{
			allOf: []*fastNode{prev, d}, minProps: -1, maxProps: -1, minItems: -1, maxItems: -1,
			minContains: -1, maxContains: -1, minLen: -1, maxLen: -1,
		}
	}
	n.depSchemas[k] = d
}

func intOr(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// fastEval evaluates one value. When it meets something it does not model
// (a Go value Decode does not produce, a reference cycle, a long array with
// uniqueItems) it gives up, and the caller asks the library.
type fastEval struct {
	gaveUp bool
	depth  int // applicators on the same value, to catch reference cycles
}

// maxFastDepth bounds the recursion of the fast path; the library detects
// $ref cycles and reports them, the fast path leaves them to it.
const maxFastDepth = 200

// fastValid reports whether v is valid against n, and whether the answer is
// certain.
func fastValid(n *fastNode, v any) (valid, sure bool) {
	var e fastEval
	valid = e.valid(n, v)
	return valid, !e.gaveUp
}

func (e *fastEval) valid(n *fastNode, v any) bool {
	if e.gaveUp {
		return false
	}
	if n.always != nil {
		return *n.always
	}
	if e.depth++; e.depth > maxFastDepth {
		e.gaveUp = true
		return false
	}
	ok := e.check(n, v)
	e.depth--
	return ok && !e.gaveUp
}

func (e *fastEval) check(n *fastNode, v any) bool {
	var t uint8
	switch v.(type) {
	case nil:
		t = typeNull
	case bool:
		t = typeBoolean
	case json.Number:
		t = typeNumber
	case string:
		t = typeString
	case []any:
		t = typeArray
	case map[string]any:
		t = typeObject
	default:
		e.gaveUp = true
		return false
	}
	if n.types != 0 && n.types&t == 0 {
		// "integer" also takes numbers with an integer value, such as 1.0
		if t != typeNumber || n.types&typeInteger == 0 || !isIntegerNumber(v.(json.Number)) {
			return false
		}
	}
	if n.konst != nil && !jsonEquals(v, *n.konst) {
		return false
	}
	if n.enum != nil && !enumContains(*n.enum, v) {
		return false
	}
	if n.format != nil && n.format(v) != nil {
		return false
	}
	if n.ref != nil {
		if !e.valid(n.ref, v) {
			return false
		}
		if n.draft < 2019 {
			return true // siblings of $ref are ignored (and not compiled)
		}
	}

	switch v := v.(type) {
	case map[string]any:
		if !e.object(n, v) {
			return false
		}
	case []any:
		if !e.array(n, v) {
			return false
		}
	case string:
		if n.minLen >= 0 || n.maxLen >= 0 {
			l := utf8.RuneCountInString(v)
			if n.minLen >= 0 && l < n.minLen || n.maxLen >= 0 && l > n.maxLen {
				return false
			}
		}
		if n.pattern != nil && !n.pattern.MatchString(v) {
			return false
		}
	case json.Number:
		if !n.number(v) {
			return false
		}
	}

	if n.not != nil && e.valid(n.not, v) {
		return false
	}
	for _, x := range n.allOf {
		if !e.valid(x, v) {
			return false
		}
	}
	if len(n.anyOf) > 0 {
		ok := false
		for _, x := range n.anyOf {
			if e.valid(x, v) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(n.oneOf) > 0 {
		matched := 0
		for _, x := range n.oneOf {
			if e.valid(x, v) {
				if matched++; matched > 1 {
					return false
				}
			}
		}
		if matched != 1 {
			return false
		}
	}
	if n.ifN != nil {
		if e.valid(n.ifN, v) {
			if n.thenN != nil && !e.valid(n.thenN, v) {
				return false
			}
		} else if n.elseN != nil && !e.valid(n.elseN, v) {
			return false
		}
	}
	return true
}

func (e *fastEval) object(n *fastNode, obj map[string]any) bool {
	if n.minProps >= 0 && len(obj) < n.minProps || n.maxProps >= 0 && len(obj) > n.maxProps {
		return false
	}
	for _, r := range n.required {
		if _, ok := obj[r]; !ok {
			return false
		}
	}
	for k, deps := range n.depRequired {
		if _, ok := obj[k]; ok {
			for _, r := range deps {
				if _, ok := obj[r]; !ok {
					return false
				}
			}
		}
	}
	for k, d := range n.depSchemas {
		if _, ok := obj[k]; ok && !e.valid(d, obj) {
			return false
		}
	}
	if n.props != nil || n.patternProps != nil || n.additional != nil || n.propertyNames != nil {
		saved := e.depth
		e.depth = 0 // a new value: applicator depth starts again
		ok := e.members(n, obj)
		e.depth = saved
		return ok
	}
	return true
}

func (e *fastEval) members(n *fastNode, obj map[string]any) bool {
	for k, pv := range obj {
		evaluated := false
		if p, ok := n.props[k]; ok {
			evaluated = true
			if !e.valid(p, pv) {
				return false
			}
		}
		for _, pp := range n.patternProps {
			if pp.re.MatchString(k) {
				evaluated = true
				if !e.valid(pp.n, pv) {
					return false
				}
			}
		}
		if !evaluated && n.additional != nil && !e.valid(n.additional, pv) {
			return false
		}
		if n.propertyNames != nil && !e.valid(n.propertyNames, k) {
			return false
		}
	}
	return true
}

// maxFastUnique is the longest array the fast path checks for uniqueItems
// (pairwise); the library hashes longer ones.
const maxFastUnique = 20

func (e *fastEval) array(n *fastNode, arr []any) bool {
	if n.minItems >= 0 && len(arr) < n.minItems || n.maxItems >= 0 && len(arr) > n.maxItems {
		return false
	}
	if n.unique && len(arr) > 1 {
		if len(arr) > maxFastUnique {
			e.gaveUp = true
			return false
		}
		for i := 1; i < len(arr); i++ {
			for j := 0; j < i; j++ {
				if jsonEquals(arr[i], arr[j]) {
					return false
				}
			}
		}
	}
	saved := e.depth
	e.depth = 0
	ok := e.elements(n, arr)
	e.depth = saved
	return ok
}

func (e *fastEval) elements(n *fastNode, arr []any) bool {
	for i, it := range arr {
		var sch *fastNode
		if i < len(n.prefixItems) {
			sch = n.prefixItems[i]
		} else {
			sch = n.items
		}
		if sch != nil && !e.valid(sch, it) {
			return false
		}
	}
	if n.contains != nil {
		matched := 0
		for _, it := range arr {
			if e.valid(n.contains, it) {
				matched++
			}
		}
		if n.minContains >= 0 {
			if matched < n.minContains {
				return false
			}
		} else if matched == 0 {
			return false
		}
		if n.maxContains >= 0 && matched > n.maxContains {
			return false
		}
	}
	return true
}

func (n *fastNode) initIntBounds() {
	n.hasMin, n.hasMax = n.minimum != nil, n.maximum != nil
	n.hasExclMin, n.hasExclMax, n.hasMultipleOf = n.exclMinimum != nil, n.exclMaximum != nil, n.multipleOf != nil
	n.isNumeric = n.hasMin || n.hasMax || n.hasExclMin || n.hasExclMax || n.hasMultipleOf
	n.intBounds = true
	for _, b := range []struct {
		r *big.Rat
		i *int64
	}{{n.minimum, &n.minInt}, {n.maximum, &n.maxInt}, {n.exclMinimum, &n.exclMinInt}, {n.exclMaximum, &n.exclMaxInt}, {n.multipleOf, &n.multipleOfInt}} {
		if b.r == nil {
			continue
		}
		if !b.r.IsInt() || !b.r.Num().IsInt64() {
			n.intBounds = false
			return
		}
		*b.i = b.r.Num().Int64()
	}
}

// decimal is a number literal without exponent whose integer part fits in
// an int64: sign, integer part, and whether a nonzero fraction follows.
type decimal struct {
	neg      bool
	ip       int64
	fraction bool
}

func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if s != "" && s[0] == '-' {
		d.neg, s = true, s[1:]
	}
	i := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		if i == 18 {
			return d, false
		}
		d.ip = d.ip*10 + int64(s[i]-'0')
	}
	if i == 0 {
		return d, false
	}
	if i < len(s) {
		if s[i] != '.' {
			return d, false // an exponent
		}
		for _, c := range []byte(s[i+1:]) {
			if !isDigit(c) {
				return d, false
			}
			if c != '0' {
				d.fraction = true
			}
		}
	}
	return d, true
}

// cmp compares d with the integer b.
func (d decimal) cmp(b int64) int {
	if !d.neg || d.ip == 0 && !d.fraction {
		// d = ip + f, 0 <= f < 1
		switch {
		case d.ip < b:
			return -1
		case d.ip > b || d.fraction:
			return 1
		}
		return 0
	}
	// d = -(ip + f)
	switch {
	case -d.ip > b:
		return 1
	case -d.ip < b || d.fraction:
		return -1
	}
	return 0
}

func (n *fastNode) number(v json.Number) bool {
	if !n.isNumeric {
		return true
	}
	if n.intBounds {
		if d, ok := parseDecimal(string(v)); ok {
			switch {
			case n.hasMin && d.cmp(n.minInt) < 0,
				n.hasMax && d.cmp(n.maxInt) > 0,
				n.hasExclMin && d.cmp(n.exclMinInt) <= 0,
				n.hasExclMax && d.cmp(n.exclMaxInt) >= 0,
				n.hasMultipleOf && (d.fraction || d.ip%n.multipleOfInt != 0):
				return false
			}
			return true
		}
	}
	r, ok := numberRat(v)
	if !ok {
		return false
	}
	switch {
	case n.minimum != nil && r.Cmp(n.minimum) < 0,
		n.maximum != nil && r.Cmp(n.maximum) > 0,
		n.exclMinimum != nil && r.Cmp(n.exclMinimum) <= 0,
		n.exclMaximum != nil && r.Cmp(n.exclMaximum) >= 0:
		return false
	}
	if n.multipleOf != nil && !new(big.Rat).Quo(r, n.multipleOf).IsInt() {
		return false
	}
	return true
}

// numberRat converts a JSON number literal exactly, cheaply for short
// integers. The library compares numbers the same way (math/big).
func numberRat(v json.Number) (*big.Rat, bool) {
	s := string(v)
	if len(s) < 19 && !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return new(big.Rat).SetInt64(i), true
		}
	}
	return new(big.Rat).SetString(s)
}

// isIntegerNumber mirrors the library: a number is an integer when its
// value is, whatever its spelling (1.0 and 1e2 are integers).
func isIntegerNumber(v json.Number) bool {
	if !strings.ContainsAny(string(v), ".eE") {
		return true
	}
	r, ok := new(big.Rat).SetString(string(v))
	return ok && r.IsInt()
}

func enumContains(enum []any, v any) bool {
	for _, x := range enum {
		if jsonEquals(v, x) {
			return true
		}
	}
	return false
}

// jsonEquals is JSON equality as the library defines it: numbers by value.
// Schema values (enum, const) come from the library's own decoding, so
// numbers on either side are json.Number.
func jsonEquals(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !jsonEquals(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEquals(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		if a == b {
			return true
		}
		ra, ok1 := numberRat(a)
		rb, ok2 := numberRat(b)
		return ok1 && ok2 && ra.Cmp(rb) == 0
	case string:
		b, ok := b.(string)
		return ok && a == b
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case nil:
		return b == nil
	}
	return false
}
