package jsoncompat

import (
	"math/big"
)

// loadModern reads a 2019-09 or 2020-12 schema the way Confluent does:
// json-sKema makes one schema per keyword, and Confluent's SchemaTranslator
// merges those of the same kind (every string keyword into one string
// schema, and so on) and wraps different kinds in a synthetic allOf.
func (l *loader) loadModern(m map[string]any, ptr string) (*node, error) {
	var parts []*node
	add := func(p *node) {
		for _, q := range parts {
			if q.kind == p.kind && mergeable(p.kind) {
				merge(q, p)
				return
			}
		}
		parts = append(parts, p)
	}
	if ref, ok := m["$ref"]; ok {
		n, err := l.refNode(ref, ptr)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
	}
	if e, ok := m["enum"]; ok {
		n, err := l.enumNode(e, ptr)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
	}
	for _, c := range []criterion{allOf, anyOf, oneOf} {
		if v, ok := m[c.String()]; ok {
			n, err := l.combinedNode(c, v, ptr+"/"+c.String())
			if err != nil {
				return nil, err
			}
			parts = append(parts, n)
		}
	}
	if v, ok := m["not"]; ok {
		sub, err := l.load(v, ptr+"/not")
		if err != nil {
			return nil, err
		}
		parts = append(parts, &node{kind: kindNot, not: sub})
	}
	if v, ok := m["const"]; ok {
		parts = append(parts, &node{kind: kindConst, constValue: canonicalJSON(v)})
	}
	if t, ok := m["type"]; ok {
		n, err := l.modernType(t, ptr)
		if err != nil {
			return nil, err
		}
		add(n)
	}
	kw, err := l.modernKeywords(m, ptr)
	if err != nil {
		return nil, err
	}
	for _, p := range kw {
		add(p)
	}
	return combine(parts), nil
}

// modernType is the translation of json-sKema's type keyword: a bare schema
// of that kind, or for several types an anyOf of bare schemas. The other
// keywords join it afterwards, so {"type": ["string", "null"], "maxLength":
// 3} is an allOf of that anyOf and a string schema, as in Confluent.
func (l *loader) modernType(t any, ptr string) (*node, error) {
	bare := func(s string) (*node, error) {
		k, integer, ok := typeKind(s)
		if !ok {
			return nil, l.errorf(ptr+"/type", "unknown type %q", s)
		}
		return &node{kind: k, integer: integer, requires: true}, nil
	}
	switch t := t.(type) {
	case string:
		return bare(t)
	case []any:
		n := &node{kind: kindCombined, criterion: anyOf, typeArray: true}
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, l.errorf(ptr+"/type", "a type must be a string, not %s", jsonKind(e))
			}
			sub, err := bare(s)
			if err != nil {
				return nil, err
			}
			n.subs = append(n.subs, sub)
		}
		return n, nil
	}
	return nil, l.errorf(ptr+"/type", "type must be a string or an array, not %s", jsonKind(t))
}

// modernKeywords yields one schema per keyword (or per property), in the
// order: arrays, objects, numbers, strings, conditionals.
func (l *loader) modernKeywords(m map[string]any, ptr string) ([]*node, error) {
	var parts []*node
	arr, err := l.modernArray(m, ptr)
	if err != nil {
		return nil, err
	}
	parts = append(parts, arr...)
	obj, err := l.modernObject(m, ptr)
	if err != nil {
		return nil, err
	}
	parts = append(parts, obj...)

	num := &node{kind: kindNumber}
	if err := l.numberKeywords(num, m, ptr); err != nil {
		return nil, err
	}
	if hasAny(m, []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}) {
		parts = append(parts, num)
	}
	str := &node{kind: kindString}
	if err := l.stringKeywords(str, m, ptr); err != nil {
		return nil, err
	}
	// "format" asserts nothing for json-sKema's translation: it yields no
	// schema, where everit makes it a string schema.
	if hasAny(m, []string{"minLength", "maxLength", "pattern"}) {
		parts = append(parts, str)
	}
	if hasAny(m, []string{"if", "then", "else"}) {
		n, err := l.conditionalNode(m, ptr)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
	}
	return parts, nil
}

func (l *loader) modernArray(m map[string]any, ptr string) ([]*node, error) {
	n := &node{kind: kindArray}
	present := false
	if l.dialect >= draft2020 {
		if v, ok := m["prefixItems"]; ok {
			a, ok := v.([]any)
			if !ok {
				return nil, l.errorf(ptr+"/prefixItems", "prefixItems must be an array, not %s", jsonKind(v))
			}
			if err := l.tuple(n, a, ptr+"/prefixItems"); err != nil {
				return nil, err
			}
			present = true
		}
		if v, ok := m["items"]; ok {
			present = true
			sub, err := l.load(v, ptr+"/items")
			if err != nil {
				return nil, err
			}
			// items is the schema of the items after prefixItems: the
			// additional items of the older drafts.
			switch {
			case sub.kind == kindFalse:
				n.closedItems = true
			case v == true:
			case m["prefixItems"] != nil:
				n.additionalItems = sub
			default:
				n.allItems = sub
			}
		}
	} else {
		if v, ok := m["items"]; ok {
			present = true
			if a, ok := v.([]any); ok {
				if err := l.tuple(n, a, ptr+"/items"); err != nil {
					return nil, err
				}
			} else {
				sub, err := l.load(v, ptr+"/items")
				if err != nil {
					return nil, err
				}
				switch {
				case sub.kind == kindFalse:
					n.closedItems = true
				case v == true:
				default:
					n.allItems = sub
				}
			}
		}
		if _, ok := m["additionalItems"]; ok {
			present = true
			if err := l.additionalItems(n, m, ptr); err != nil {
				return nil, err
			}
		}
	}
	if hasAny(m, []string{"minItems", "maxItems", "uniqueItems", "contains"}) {
		present = true
		if err := l.arrayCounts(n, m, ptr); err != nil {
			return nil, err
		}
	}
	if n.contains != nil {
		// json-sKema reads minContains with its default of 1 whenever there
		// is a contains, so dropping "minContains": 1 changes nothing.
		var err error
		if n.minContains, err = l.integer(m, "minContains", ptr); err != nil {
			return nil, err
		}
		if n.minContains == nil {
			n.minContains = big.NewRat(1, 1)
		}
		if n.maxContains, err = l.integer(m, "maxContains", ptr); err != nil {
			return nil, err
		}
	}
	if v, ok := m["unevaluatedItems"]; ok {
		present = true
		sub, err := l.load(v, ptr+"/unevaluatedItems")
		if err != nil {
			return nil, err
		}
		n.unevaluatedItems = sub
	}
	if !present {
		return nil, nil
	}
	return []*node{n}, nil
}

func (l *loader) modernObject(m map[string]any, ptr string) ([]*node, error) {
	n := &node{kind: kindObject}
	// Each property is its own keyword schema for json-sKema: an empty
	// "properties" yields no object schema at all.
	present := hasAny(m, []string{
		"required", "additionalProperties", "minProperties", "maxProperties",
		"dependentRequired", "dependentSchemas", "dependencies", "propertyNames", "unevaluatedProperties",
	})
	if p, ok := m["properties"].(map[string]any); ok && len(p) > 0 {
		present = true
	}
	if p, ok := m["patternProperties"].(map[string]any); ok && len(p) > 0 {
		present = true
	}
	if err := l.objectKeywords(n, m, ptr, false); err != nil {
		return nil, err
	}
	if err := l.dependencies(n, m, "dependentRequired", ptr, true, false); err != nil {
		return nil, err
	}
	if err := l.dependencies(n, m, "dependentSchemas", ptr, false, true); err != nil {
		return nil, err
	}
	if v, ok := m["unevaluatedProperties"]; ok {
		sub, err := l.load(v, ptr+"/unevaluatedProperties")
		if err != nil {
			return nil, err
		}
		n.unevaluatedProps = sub
	}
	if !present {
		return nil, nil
	}
	return []*node{n}, nil
}

func mergeable(k kind) bool {
	switch k {
	case kindString, kindNumber, kindObject, kindArray:
		return true
	}
	return false
}

// merge folds src's keywords into dst, both of one mergeable kind. A
// keyword appears in only one of them (each comes from a different keyword
// of one schema object), so there is nothing to reconcile.
func merge(dst, src *node) {
	dst.requires = dst.requires || src.requires
	dst.integer = dst.integer || src.integer
	rat := func(d **big.Rat, s *big.Rat) {
		if s != nil {
			*d = s
		}
	}
	sub := func(d **node, s *node) {
		if s != nil {
			*d = s
		}
	}
	rat(&dst.minLength, src.minLength)
	rat(&dst.maxLength, src.maxLength)
	if src.pattern != nil {
		dst.pattern = src.pattern
	}
	rat(&dst.maximum, src.maximum)
	rat(&dst.minimum, src.minimum)
	rat(&dst.exclusiveMaximum, src.exclusiveMaximum)
	rat(&dst.exclusiveMinimum, src.exclusiveMinimum)
	rat(&dst.multipleOf, src.multipleOf)
	for k, v := range src.properties {
		setProperty(dst, k, v)
	}
	for k := range src.required {
		if dst.required == nil {
			dst.required = map[string]bool{}
		}
		dst.required[k] = true
	}
	dst.closed = dst.closed || src.closed
	sub(&dst.additional, src.additional)
	dst.patternProps = append(dst.patternProps, src.patternProps...)
	for k, v := range src.propertyDeps {
		if dst.propertyDeps == nil {
			dst.propertyDeps = map[string][]string{}
		}
		dst.propertyDeps[k] = v
	}
	for k, v := range src.schemaDeps {
		if dst.schemaDeps == nil {
			dst.schemaDeps = map[string]*node{}
		}
		dst.schemaDeps[k] = v
	}
	rat(&dst.minProps, src.minProps)
	rat(&dst.maxProps, src.maxProps)
	sub(&dst.unevaluatedProps, src.unevaluatedProps)
	sub(&dst.propertyNames, src.propertyNames)
	sub(&dst.allItems, src.allItems)
	if src.items != nil {
		dst.items = src.items
	}
	dst.closedItems = dst.closedItems || src.closedItems
	sub(&dst.additionalItems, src.additionalItems)
	rat(&dst.minItems, src.minItems)
	rat(&dst.maxItems, src.maxItems)
	dst.uniqueItems = dst.uniqueItems || src.uniqueItems
	sub(&dst.contains, src.contains)
	rat(&dst.minContains, src.minContains)
	rat(&dst.maxContains, src.maxContains)
	sub(&dst.unevaluatedItems, src.unevaluatedItems)
}
