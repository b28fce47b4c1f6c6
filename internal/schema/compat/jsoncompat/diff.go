package jsoncompat

import (
	"math/big"
	"slices"
	"strings"
)

// Bounds on one comparison. A hostile pair of schemas (combined schemas
// nested in combined schemas, references fanning out) makes the diff's work
// grow exponentially; past these bounds Compare stops and reports
// SCHEMA_TOO_COMPLEX, an incompatible change, rather than an answer it did
// not finish computing.
const (
	maxCompares = 200_000
	maxDepth    = 1_000
)

// Compare lists the differences between original, the schema documents were
// written with, and update, the schema they will be read with. It ports
// Confluent Schema Registry's JSON Schema SchemaDiff: the update is
// compatible ("BACKWARD") when every difference is Compatible.
func Compare(original, update *Schema, rules Rules) []Difference {
	if original.canonical == update.canonical {
		return nil
	}
	sh := &shared{fp: newFingerprinter(), budget: maxCompares, explainBudget: maxCompares}
	c := &context{rules: rules, onStack: map[*node]bool{}, shared: sh}
	c.compare(original.root, update.root)
	diffs := c.diffs
	if sh.exceeded {
		diffs = append(diffs, Difference{Type: SchemaTooComplex, Path: "#/"})
	}
	for i := range diffs {
		diffs[i].Compatible = rules.compatible(diffs[i].Type)
	}
	return diffs
}

// Compatible reports whether every difference is compatible.
func Compatible(diffs []Difference) bool {
	for _, d := range diffs {
		if !d.Compatible {
			return false
		}
	}
	return true
}

// context is Confluent's diff Context: where in the schemas the comparison
// is, the differences found so far, and the original schemas being compared
// further up (a reference back to one of them is not followed again).
type context struct {
	rules Rules
	path  []string
	// user holds, for each entry of path, the same step in the tokens of
	// the schema as its author wrote it: none for a step into a combined
	// schema the loader made (see Difference.SchemaPath).
	user    [][]string
	diffs   []Difference
	onStack map[*node]bool
	shared  *shared
}

type shared struct {
	fp       *fingerprinter
	budget   int
	depth    int
	exceeded bool
	// explaining: the comparisons under way only explain a difference
	// found (Difference.Because); they spend explainBudget, never budget,
	// so they cannot change a verdict, and stop quietly when it runs out.
	explaining    bool
	explainBudget int
}

// sub is a context for a trial comparison whose differences the caller
// keeps or drops, as Confluent's getSubcontext. The stack of schemas is
// shared: the trial pushes and pops its own.
func (c *context) sub() *context {
	return &context{rules: c.rules, path: slices.Clone(c.path), user: slices.Clone(c.user), onStack: c.onStack, shared: c.shared}
}

func (c *context) compatible() bool {
	for _, d := range c.diffs {
		if !c.rules.compatible(d.Type) {
			return false
		}
	}
	return true
}

// push enters p, one step of Confluent's path (a keyword or a property
// name), which is the same step in the user's schema.
func (c *context) push(p string) { c.pushAs(p, p) }

// pushAs enters p, which is the tokens user in the user's schema (none
// for a step the user did not write).
func (c *context) pushAs(p string, user ...string) {
	c.path = append(c.path, p)
	c.user = append(c.user, user)
}

func (c *context) pop() {
	c.path = c.path[:len(c.path)-1]
	c.user = c.user[:len(c.user)-1]
}

func (c *context) pointer() string { return "#/" + strings.Join(c.path, "/") }

func (c *context) add(t, old, nw string) {
	tokens := slices.Concat(c.user...)
	c.diffs = append(c.diffs, Difference{
		Type: t, Path: c.pointer(), Old: old, New: nw,
		SchemaPath: schemaPointer(tokens), Field: fieldOf(tokens),
	})
}

// addAt adds a difference at the keyword attr of the current schema.
func (c *context) addAt(attr, t, old, nw string) {
	c.push(attr)
	c.add(t, old, nw)
	c.pop()
}

func (c *context) compare(o, u *node) {
	switch {
	case o == nil && u == nil:
		return
	case o == nil:
		c.add(schemaAdded, "", "")
		return
	case u == nil:
		c.add(schemaRemoved, "", "")
		return
	}
	o, u = deref(o), deref(u)
	sh := c.shared
	switch {
	case sh.exceeded:
		return
	case sh.explaining:
		if sh.explainBudget <= 0 || sh.depth > maxDepth {
			return
		}
		sh.explainBudget--
	default:
		sh.budget--
		if sh.budget < 0 || sh.depth > maxDepth {
			sh.exceeded = true
			return
		}
	}
	if sh.fp.of(o) == sh.fp.of(u) {
		return // nothing to find; the common case in a large schema
	}
	sh.depth++
	defer func() { sh.depth-- }()

	oc, uc := o.kind == kindCombined, u.kind == kindCombined
	switch {
	case !oc && uc:
		// A schema became one alternative of a union: compatible when it is
		// compatible with one of them.
		if len(u.subs) == 1 {
			if s := c.try(o, u.subs[0]); s != nil {
				c.diffs = append(c.diffs, s.diffs...)
				return
			}
		} else if u.criterion == anyOf || u.criterion == oneOf {
			for _, us := range u.subs {
				if s := c.try(o, us); s != nil {
					c.diffs = append(c.diffs, s.diffs...)
					c.add(sumTypeExtended, "", "")
					return
				}
			}
		}
	case oc && !uc:
		// An allOf lost all but one of its parts: compatible when what is
		// left is compatible with one of them.
		if len(o.subs) == 1 {
			if s := c.try(o.subs[0], u); s != nil {
				c.diffs = append(c.diffs, s.diffs...)
				return
			}
		}
		if o.criterion == allOf {
			for _, os := range o.subs {
				if s := c.try(os, u); s != nil {
					c.diffs = append(c.diffs, s.diffs...)
					c.add(productTypeNarrowed, "", "")
					return
				}
			}
		}
	}

	if o.kind != u.kind {
		// Nothing was accepted before, or anything is accepted now.
		if o.kind == kindFalse || u.kind == kindEmpty {
			return
		}
		// Kafka Connect writes bytes as a base64 string either way.
		if o.connectType == "bytes" && u.connectType == "bytes" {
			return
		}
		c.add(typeChanged, o.kind.String(), u.kind.String())
		return
	}

	if c.onStack[o] {
		return
	}
	c.onStack[o] = true
	defer delete(c.onStack, o)

	if !eqString(o.id, u.id) {
		c.add(idChanged, orEmpty(o.id), orEmpty(u.id))
	}
	if !eqString(o.title, u.title) {
		c.add(titleChanged, orEmpty(o.title), orEmpty(u.title))
	}
	if !eqString(o.description, u.description) {
		c.add(descriptionChanged, "", "")
	}
	if !eqString(o.def, u.def) {
		c.add(defaultChanged, orEmpty(o.def), orEmpty(u.def))
	}

	switch o.kind {
	case kindString:
		c.compareString(o, u)
	case kindNumber:
		c.compareNumber(o, u)
	case kindConst:
		if o.constValue != u.constValue {
			c.addAt("const", enumArrayChanged, o.constValue, u.constValue)
			d := &c.diffs[len(c.diffs)-1]
			d.WriterOnly, d.ReaderOnly = []string{o.constValue}, []string{u.constValue}
		}
	case kindEnum:
		c.compareEnum(o, u)
	case kindCombined:
		c.compareCombined(o, u)
	case kindNot:
		c.compareNot(o, u)
	case kindObject:
		c.compareObject(o, u)
	case kindArray:
		c.compareArray(o, u)
	}
}

// try compares o and u in a trial context and returns it when the result is
// compatible.
func (c *context) try(o, u *node) *context {
	s := c.sub()
	s.compare(o, u)
	if s.compatible() {
		return s
	}
	return nil
}

func eqString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ratString(r *big.Rat) string {
	if r == nil {
		return ""
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(digitsOf(r))
}

// digitsOf is enough decimals to print r exactly when it is a short
// decimal, and a readable approximation otherwise.
func digitsOf(r *big.Rat) int {
	for d := 1; d <= 20; d++ {
		s := r.FloatString(d)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return d
		}
	}
	return 20
}

// compareBound reports a change of an optional numeric keyword with the
// four names Confluent uses for it.
func (c *context) compareBound(attr string, o, u *big.Rat, added, removed, increased, decreased string) {
	switch {
	case o == nil && u == nil:
	case o == nil:
		c.addAt(attr, added, "", ratString(u))
	case u == nil:
		c.addAt(attr, removed, ratString(o), "")
	case o.Cmp(u) < 0:
		c.addAt(attr, increased, ratString(o), ratString(u))
	case o.Cmp(u) > 0:
		c.addAt(attr, decreased, ratString(o), ratString(u))
	}
}

func (c *context) compareString(o, u *node) {
	c.compareBound("maxLength", o.maxLength, u.maxLength, maxLengthAdded, maxLengthRemoved, maxLengthIncreased, maxLengthDecreased)
	c.compareBound("minLength", o.minLength, u.minLength, minLengthAdded, minLengthRemoved, minLengthIncreased, minLengthDecreased)
	switch {
	case o.pattern == nil && u.pattern != nil:
		c.addAt("pattern", patternAdded, "", *u.pattern)
	case o.pattern != nil && u.pattern == nil:
		c.addAt("pattern", patternRemoved, *o.pattern, "")
	case o.pattern != nil && *o.pattern != *u.pattern:
		c.addAt("pattern", patternChanged, *o.pattern, *u.pattern)
	}
}

func (c *context) compareNumber(o, u *node) {
	c.compareBound("maximum", o.maximum, u.maximum, maximumAdded, maximumRemoved, maximumIncreased, maximumDecreased)
	c.compareBound("minimum", o.minimum, u.minimum, minimumAdded, minimumRemoved, minimumIncreased, minimumDecreased)
	c.compareBound("exclusiveMaximum", o.exclusiveMaximum, u.exclusiveMaximum,
		exclusiveMaximumAdded, exclusiveMaximumRemoved, exclusiveMaximumIncreased, exclusiveMaximumDecreased)
	c.compareBound("exclusiveMinimum", o.exclusiveMinimum, u.exclusiveMinimum,
		exclusiveMinimumAdded, exclusiveMinimumRemoved, exclusiveMinimumIncreased, exclusiveMinimumDecreased)
	om, um := o.multipleOf, u.multipleOf
	switch {
	case om == nil && um == nil:
	case om == nil:
		c.addAt("multipleOf", multipleOfAdded, "", ratString(um))
	case um == nil:
		c.addAt("multipleOf", multipleOfRemoved, ratString(om), "")
	case om.Cmp(um) == 0:
	case isMultiple(um, om):
		c.addAt("multipleOf", multipleOfExpanded, ratString(om), ratString(um))
	case isMultiple(om, um):
		c.addAt("multipleOf", multipleOfReduced, ratString(om), ratString(um))
	default:
		c.addAt("multipleOf", multipleOfChanged, ratString(om), ratString(um))
	}
	if o.integer != u.integer {
		if o.integer {
			c.add(typeExtended, "integer", "number")
		} else {
			c.add(typeNarrowed, "number", "integer")
		}
	}
}

// isMultiple reports whether a is a whole multiple of b. Confluent compares
// the integer parts, which divides by zero for multipleOf 0.5; exact
// fractions give the answer it means.
func isMultiple(a, b *big.Rat) bool {
	if b.Sign() == 0 {
		return false
	}
	return new(big.Rat).Quo(a, b).IsInt()
}

func (c *context) compareEnum(o, u *node) {
	oc, uc := containsAll(u.enum, o.enum), containsAll(o.enum, u.enum)
	t := enumArrayChanged
	switch {
	case oc && uc:
		return
	case oc:
		t = enumArrayExtended
	case uc:
		t = enumArrayNarrowed
	}
	c.addAt("enum", t, enumString(o.enum), enumString(u.enum))
	d := &c.diffs[len(c.diffs)-1]
	d.WriterOnly, d.ReaderOnly = without(o.enum, u.enum), without(u.enum, o.enum)
}

// without returns the values of a not in b, in a's order.
func without(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

func containsAll(set, of []string) bool {
	for _, v := range of {
		if !slices.Contains(set, v) {
			return false
		}
	}
	return true
}

func enumString(values []string) string { return "[" + strings.Join(values, ",") + "]" }

func (c *context) compareNot(o, u *node) {
	c.push("not")
	defer c.pop()
	// A not excludes; the reader accepts at least as much when its excluded
	// schema accepts at most what the writer's excluded: compare reversed.
	if c.shared.fp.of(deref(o.not)) == c.shared.fp.of(deref(u.not)) {
		return
	}
	s := c.sub()
	s.compare(u.not, o.not)
	if s.compatible() {
		c.add(notTypeNarrowed, "", "")
	} else {
		c.add(notTypeExtended, "", "")
	}
}
