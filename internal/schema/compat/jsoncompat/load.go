package jsoncompat

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// ErrInvalidSchema is wrapped by every error Parse returns: the document is
// not JSON, or not a JSON Schema this package can load.
var ErrInvalidSchema = errors.New("invalid JSON schema")

// Schema is a parsed JSON Schema document, ready to be compared.
type Schema struct {
	root    *node
	dialect dialect
	// canonical is the document in canonical JSON: equal documents need no
	// comparison, however costly their graph of references would be.
	canonical string
}

// dialect is the JSON Schema draft a document is read as. Confluent reads
// drafts 4 to 7 with the everit library and 2019-09 and 2020-12 with
// json-sKema, whose schemas it translates into everit's model; the two
// loaders disagree in small ways the diff can see (an empty "properties" is
// an object schema for one and nothing for the other), so this package
// keeps both readings.
type dialect uint8

const (
	draft4 dialect = iota
	draft6
	draft7
	draft2019
	draft2020
)

// modern reports whether the document is read the way Confluent's
// json-sKema path reads it.
func (d dialect) modern() bool { return d >= draft2019 }

// metaSchemas maps $schema values to drafts, as Confluent's
// SpecificationVersion does; anything else is read as draft 7.
var metaSchemas = map[string]dialect{
	"json-schema.org/draft-04/schema":      draft4,
	"json-schema.org/schema":               draft4,
	"json-schema.org/draft-06/schema":      draft6,
	"json-schema.org/draft-07/schema":      draft7,
	"json-schema.org/draft/2019-09/schema": draft2019,
	"json-schema.org/draft/2020-12/schema": draft2020,
}

func dialectOf(doc any) dialect {
	m, ok := doc.(map[string]any)
	if !ok {
		return draft7
	}
	s, ok := m["$schema"].(string)
	if !ok {
		return draft7
	}
	s = strings.TrimSuffix(s, "#")
	for _, scheme := range []string{"http://", "https://"} {
		if d, ok := metaSchemas[strings.TrimPrefix(s, scheme)]; ok && strings.HasPrefix(s, scheme) {
			return d
		}
	}
	return draft7
}

// schemaLimits bound the JSON decoder for schema documents: deeper than
// payloads, as every level of a schema is two levels of JSON.
var schemaLimits = jsonschema.Limits{MaxDepth: 256}

// Parse decodes a JSON Schema document and loads it into the model the diff
// compares. It fails when src is not strict JSON (duplicate keys included),
// when a keyword has the wrong shape ("maxLength": "3"), when "type" names no
// JSON type, and when a $ref names something outside the document.
func Parse(src []byte) (*Schema, error) {
	doc, bad, ok := jsonschema.Decode(src, schemaLimits)
	if !ok {
		if bad.Field != "" {
			return nil, fmt.Errorf("%w: %s (at %s)", ErrInvalidSchema, bad.Message, bad.Field)
		}
		return nil, fmt.Errorf("%w: %s", ErrInvalidSchema, bad.Message)
	}
	l := &loader{dialect: dialectOf(doc), doc: doc, targets: map[string]*node{}}
	if m, ok := doc.(map[string]any); ok {
		idKey := "$id"
		if l.dialect == draft4 {
			idKey = "id"
		}
		if id, ok := m[idKey].(string); ok {
			l.base, _ = url.Parse(id)
		}
	}
	root, err := l.load(doc, "#")
	if err != nil {
		return nil, err
	}
	// References are loaded after the tree that holds them, from a work
	// list, so that a chain of definitions does not deepen the recursion.
	for len(l.pending) > 0 {
		ptr := l.pending[0]
		l.pending = l.pending[1:]
		v, _ := lookupPointer(doc, ptr) // checked when queued
		n, err := l.load(v, "#"+ptr)
		if err != nil {
			return nil, err
		}
		*l.targets[ptr] = *n
	}
	// A reference to the whole document ("#") should lead back to the root
	// itself, so that a recursion stops where it starts.
	if self, ok := l.targets[""]; ok {
		root = self
	}
	return &Schema{root: root, dialect: l.dialect, canonical: canonicalJSON(doc)}, nil
}

type loader struct {
	dialect dialect
	doc     any
	base    *url.URL // the root's $id, to recognise references to the document itself
	targets map[string]*node
	pending []string
	anchors map[string]string // plain-name fragment -> JSON pointer, built on first use
}

func (l *loader) errorf(ptr, format string, args ...any) error {
	return fmt.Errorf("%w: at %s: %s", ErrInvalidSchema, ptr, fmt.Sprintf(format, args...))
}

func (l *loader) load(v any, ptr string) (*node, error) {
	switch v := v.(type) {
	case bool:
		if v {
			return &node{kind: kindEmpty}, nil
		}
		return &node{kind: kindFalse}, nil
	case map[string]any:
		var n *node
		var err error
		if l.dialect.modern() {
			n, err = l.loadModern(v, ptr)
		} else {
			n, err = l.loadClassic(v, ptr)
		}
		if err != nil {
			return nil, err
		}
		l.annotate(n, v)
		return n, nil
	}
	return nil, l.errorf(ptr, "a schema must be an object or a boolean, not %s", jsonKind(v))
}

// annotate sets the keywords every kind carries. Non-string annotations are
// ignored rather than refused: they change no document's validity.
func (l *loader) annotate(n *node, m map[string]any) {
	str := func(key string) *string {
		if s, ok := m[key].(string); ok {
			return &s
		}
		return nil
	}
	// json-sKema (2019-09 and later) does not hand the $id to the
	// translated schema, so Confluent never reports ID_CHANGED there.
	switch l.dialect {
	case draft4:
		n.id = str("id")
	case draft6, draft7:
		n.id = str("$id")
	}
	n.title = str("title")
	n.description = str("description")
	if d, ok := m["default"]; ok {
		c := canonicalJSON(d)
		n.def = &c
	}
	if ct, ok := m["connect.type"].(string); ok {
		n.connectType = ct
	}
}

// Keyword groups, as everit's SpecificationVersion lists them: a schema
// without "type" that uses one of a group's keywords is a schema of that
// group's kind.
var (
	stringKeywords = []string{"minLength", "maxLength", "pattern", "format"}
	numberKeywords = []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
)

func hasAny(m map[string]any, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// combine makes one schema of the parts a schema object yielded.
func combine(parts []*node) *node {
	switch len(parts) {
	case 0:
		return &node{kind: kindEmpty}
	case 1:
		return parts[0]
	}
	return &node{kind: kindCombined, criterion: allOf, subs: parts, synthetic: true}
}

func typeKind(t string) (k kind, integer, ok bool) {
	switch t {
	case "string":
		return kindString, false, true
	case "integer":
		return kindNumber, true, true
	case "number":
		return kindNumber, false, true
	case "boolean":
		return kindBoolean, false, true
	case "null":
		return kindNull, false, true
	case "array":
		return kindArray, false, true
	case "object":
		return kindObject, false, true
	}
	return 0, false, false
}

// objectKeywords fills n from the object keywords of m. In the classic
// reading "dependencies" holds both kinds of dependency; in the modern one
// it is the fallback when neither 2019-09 keyword is used.
func (l *loader) objectKeywords(n *node, m map[string]any, ptr string, classic bool) error {
	if v, ok := m["properties"]; ok {
		props, ok := v.(map[string]any)
		if !ok {
			return l.errorf(ptr+"/properties", "properties must be an object, not %s", jsonKind(v))
		}
		for k, pv := range props {
			sub, err := l.load(pv, ptr+"/properties/"+escapePointer(k))
			if err != nil {
				return err
			}
			setProperty(n, k, sub)
		}
	}
	if err := l.requiredKeyword(n, m, ptr); err != nil {
		return err
	}
	if err := l.additionalProperties(n, m, ptr); err != nil {
		return err
	}
	if v, ok := m["patternProperties"]; ok {
		pp, ok := v.(map[string]any)
		if !ok {
			return l.errorf(ptr+"/patternProperties", "patternProperties must be an object, not %s", jsonKind(v))
		}
		for _, p := range sortedKeys(pp) {
			sub, err := l.load(pp[p], ptr+"/patternProperties/"+escapePointer(p))
			if err != nil {
				return err
			}
			n.patternProps = append(n.patternProps, newPatternProp(p, sub))
		}
	}
	if classic || (!hasAny(m, []string{"dependentRequired", "dependentSchemas"})) {
		if err := l.dependencies(n, m, "dependencies", ptr, true, true); err != nil {
			return err
		}
	}
	var err error
	if n.minProps, err = l.integer(m, "minProperties", ptr); err != nil {
		return err
	}
	if n.maxProps, err = l.integer(m, "maxProperties", ptr); err != nil {
		return err
	}
	if v, ok := m["propertyNames"]; ok && l.dialect >= draft6 {
		if n.propertyNames, err = l.load(v, ptr+"/propertyNames"); err != nil {
			return err
		}
	}
	return nil
}

func setProperty(n *node, k string, sub *node) {
	if n.properties == nil {
		n.properties = map[string]*node{}
	}
	n.properties[k] = sub
}

func newPatternProp(p string, sub *node) patternProp {
	// Java's regular expressions are not RE2's: a pattern Go cannot compile
	// (a lookahead, say) covers no property here, which can only make a
	// property change look less compatible than Confluent finds it.
	re, err := regexp.Compile(p)
	if err != nil {
		re = nil
	}
	return patternProp{pattern: p, re: re, schema: sub}
}

func (l *loader) requiredKeyword(n *node, m map[string]any, ptr string) error {
	v, ok := m["required"]
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		return l.errorf(ptr+"/required", "required must be an array, not %s", jsonKind(v))
	}
	if n.required == nil {
		n.required = map[string]bool{}
	}
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return l.errorf(ptr+"/required/"+strconv.Itoa(i), "a required property must be a string, not %s", jsonKind(e))
		}
		n.required[s] = true
	}
	return nil
}

func (l *loader) additionalProperties(n *node, m map[string]any, ptr string) error {
	v, ok := m["additionalProperties"]
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case bool:
		n.closed = !v
		return nil
	case map[string]any:
		sub, err := l.load(v, ptr+"/additionalProperties")
		n.additional = sub
		return err
	}
	return l.errorf(ptr+"/additionalProperties", "additionalProperties must be a boolean or a schema, not %s", jsonKind(v))
}

// dependencies reads a dependency keyword: arrays are property
// dependencies, schemas are schema dependencies.
func (l *loader) dependencies(n *node, m map[string]any, key, ptr string, arrays, schemas bool) error {
	v, ok := m[key]
	if !ok {
		return nil
	}
	deps, ok := v.(map[string]any)
	if !ok {
		return l.errorf(ptr+"/"+key, "%s must be an object, not %s", key, jsonKind(v))
	}
	for _, k := range sortedKeys(deps) {
		at := ptr + "/" + key + "/" + escapePointer(k)
		switch d := deps[k].(type) {
		case []any:
			if !arrays {
				return l.errorf(at, "a dependency here must be a schema, not an array")
			}
			names := make([]string, 0, len(d))
			for _, e := range d {
				s, ok := e.(string)
				if !ok {
					return l.errorf(at, "a dependency must list property names, not %s", jsonKind(e))
				}
				if !slices.Contains(names, s) {
					names = append(names, s)
				}
			}
			if n.propertyDeps == nil {
				n.propertyDeps = map[string][]string{}
			}
			n.propertyDeps[k] = names
		case bool, map[string]any:
			if !schemas {
				return l.errorf(at, "a dependency here must be an array of property names")
			}
			sub, err := l.load(d, at)
			if err != nil {
				return err
			}
			if n.schemaDeps == nil {
				n.schemaDeps = map[string]*node{}
			}
			n.schemaDeps[k] = sub
		default:
			return l.errorf(at, "a dependency must be an array or a schema, not %s", jsonKind(d))
		}
	}
	return nil
}

func (l *loader) tuple(n *node, arr []any, ptr string) error {
	for i, e := range arr {
		sub, err := l.load(e, ptr+"/"+strconv.Itoa(i))
		if err != nil {
			return err
		}
		n.items = append(n.items, sub)
	}
	return nil
}

func (l *loader) additionalItems(n *node, m map[string]any, ptr string) error {
	v, ok := m["additionalItems"]
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case bool:
		n.closedItems = !v
		return nil
	case map[string]any:
		sub, err := l.load(v, ptr+"/additionalItems")
		n.additionalItems = sub
		return err
	}
	return l.errorf(ptr+"/additionalItems", "additionalItems must be a boolean or a schema, not %s", jsonKind(v))
}

// arrayCounts reads the array keywords both readings share.
func (l *loader) arrayCounts(n *node, m map[string]any, ptr string) error {
	var err error
	if n.minItems, err = l.integer(m, "minItems", ptr); err != nil {
		return err
	}
	if n.maxItems, err = l.integer(m, "maxItems", ptr); err != nil {
		return err
	}
	if v, ok := m["uniqueItems"]; ok {
		b, ok := v.(bool)
		if !ok {
			return l.errorf(ptr+"/uniqueItems", "uniqueItems must be a boolean, not %s", jsonKind(v))
		}
		n.uniqueItems = b
	}
	if v, ok := m["contains"]; ok && l.dialect >= draft6 {
		if n.contains, err = l.load(v, ptr+"/contains"); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) enumNode(v any, ptr string) (*node, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, l.errorf(ptr+"/enum", "enum must be an array, not %s", jsonKind(v))
	}
	n := &node{kind: kindEnum}
	for _, e := range arr {
		c := canonicalJSON(e)
		if !slices.Contains(n.enum, c) {
			n.enum = append(n.enum, c)
		}
	}
	return n, nil
}

func (l *loader) combinedNode(c criterion, v any, ptr string) (*node, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, l.errorf(ptr, "%s must be an array, not %s", c, jsonKind(v))
	}
	n := &node{kind: kindCombined, criterion: c}
	for i, e := range arr {
		sub, err := l.load(e, ptr+"/"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		// json-sKema's translation flattens a synthetic allOf inside an
		// allOf (an allOf of allOfs is one allOf). It flattens it inside
		// anyOf and oneOf too, which changes their meaning; we do not.
		if c == allOf && l.dialect.modern() && sub.kind == kindCombined && sub.synthetic && sub.title == nil && sub.description == nil && sub.def == nil {
			n.subs = append(n.subs, sub.subs...)
			continue
		}
		n.subs = append(n.subs, sub)
	}
	return n, nil
}

func (l *loader) conditionalNode(m map[string]any, ptr string) (*node, error) {
	n := &node{kind: kindConditional}
	for _, c := range []struct {
		key string
		dst **node
	}{{"if", &n.ifS}, {"then", &n.thenS}, {"else", &n.elseS}} {
		if v, ok := m[c.key]; ok {
			sub, err := l.load(v, ptr+"/"+c.key)
			if err != nil {
				return nil, err
			}
			*c.dst = sub
		}
	}
	return n, nil
}

// number reads an optional numeric keyword.
func (l *loader) number(m map[string]any, key, ptr string) (*big.Rat, error) {
	v, ok := m[key]
	if !ok {
		return nil, nil
	}
	num, ok := v.(json.Number)
	if !ok {
		return nil, l.errorf(ptr+"/"+key, "%s must be a number, not %s", key, jsonKind(v))
	}
	r, ok := new(big.Rat).SetString(string(num))
	if !ok {
		return nil, l.errorf(ptr+"/"+key, "%s: %s is not a number", key, num)
	}
	return r, nil
}

// integer reads an optional keyword that must be a whole number.
func (l *loader) integer(m map[string]any, key, ptr string) (*big.Rat, error) {
	r, err := l.number(m, key, ptr)
	if err != nil || r == nil {
		return r, err
	}
	if !r.IsInt() {
		return nil, l.errorf(ptr+"/"+key, "%s must be an integer, not %s", key, r.FloatString(3))
	}
	return r, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (l *loader) stringKeywords(n *node, m map[string]any, ptr string) error {
	var err error
	if n.minLength, err = l.integer(m, "minLength", ptr); err != nil {
		return err
	}
	if n.maxLength, err = l.integer(m, "maxLength", ptr); err != nil {
		return err
	}
	if v, ok := m["pattern"]; ok {
		s, ok := v.(string)
		if !ok {
			return l.errorf(ptr+"/pattern", "pattern must be a string, not %s", jsonKind(v))
		}
		n.pattern = &s
	}
	return nil
}

func (l *loader) numberKeywords(n *node, m map[string]any, ptr string) error {
	var err error
	if n.minimum, err = l.number(m, "minimum", ptr); err != nil {
		return err
	}
	if n.maximum, err = l.number(m, "maximum", ptr); err != nil {
		return err
	}
	if n.multipleOf, err = l.number(m, "multipleOf", ptr); err != nil {
		return err
	}
	if l.dialect == draft4 {
		return nil
	}
	if n.exclusiveMinimum, err = l.number(m, "exclusiveMinimum", ptr); err != nil {
		return err
	}
	n.exclusiveMaximum, err = l.number(m, "exclusiveMaximum", ptr)
	return err
}
