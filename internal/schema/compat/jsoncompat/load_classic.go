package jsoncompat

import (
	"math/big"
)

func (l *loader) arrayKeywordNames() []string {
	kw := []string{"items", "additionalItems", "minItems", "maxItems", "uniqueItems"}
	if l.dialect >= draft6 {
		kw = append(kw, "contains")
	}
	return kw
}

func (l *loader) objectKeywordNames() []string {
	kw := []string{"properties", "required", "minProperties", "maxProperties", "dependencies", "patternProperties", "additionalProperties"}
	if l.dialect >= draft6 {
		kw = append(kw, "propertyNames")
	}
	return kw
}

// loadClassic reads a draft 4, 6 or 7 schema the way everit's SchemaLoader
// does: $ref hides its siblings; otherwise each extractor (enum, combiners,
// not, const, type, then keywords sniffed by group) yields a schema, and
// several become one synthetic allOf.
func (l *loader) loadClassic(m map[string]any, ptr string) (*node, error) {
	if len(m) == 0 {
		return &node{kind: kindEmpty}, nil
	}
	if ref, ok := m["$ref"]; ok {
		return l.refNode(ref, ptr)
	}
	var parts []*node
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
	if v, ok := m["const"]; ok && l.dialect != draft4 {
		parts = append(parts, &node{kind: kindConst, constValue: canonicalJSON(v)})
	}
	// Groups the "type" keyword consumed are not sniffed again.
	consumed := map[kind]bool{}
	if t, ok := m["type"]; ok {
		n, err := l.classicTyped(t, m, ptr, consumed)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
	}
	sniffers := []struct {
		k        kind
		keywords []string
	}{
		{kindArray, l.arrayKeywordNames()},
		{kindObject, l.objectKeywordNames()},
		{kindNumber, numberKeywords},
		{kindString, stringKeywords},
	}
	for _, s := range sniffers {
		if consumed[s.k] || !hasAny(m, s.keywords) {
			continue
		}
		n, err := l.classicKeywords(s.k, m, ptr, false)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
	}
	if l.dialect >= draft7 && hasAny(m, []string{"if", "then", "else"}) {
		n, err := l.conditionalNode(m, ptr)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
	}
	n := combine(parts)
	if n.kind == kindArray {
		// Not keywords before 2019-09, so everit keeps them as unprocessed
		// properties, where Confluent's diff reads them raw.
		var err error
		if n.minContains, err = l.number(m, "minContains", ptr); err != nil {
			return nil, err
		}
		if n.maxContains, err = l.number(m, "maxContains", ptr); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (l *loader) classicTyped(t any, m map[string]any, ptr string, consumed map[kind]bool) (*node, error) {
	switch t := t.(type) {
	case string:
		return l.classicType(t, m, ptr, consumed)
	case []any:
		n := &node{kind: kindCombined, criterion: anyOf, typeArray: true}
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, l.errorf(ptr+"/type", "a type must be a string, not %s", jsonKind(e))
			}
			sub, err := l.classicType(s, m, ptr, consumed)
			if err != nil {
				return nil, err
			}
			n.subs = append(n.subs, sub)
		}
		return n, nil
	}
	return nil, l.errorf(ptr+"/type", "type must be a string or an array, not %s", jsonKind(t))
}

func (l *loader) classicType(t string, m map[string]any, ptr string, consumed map[kind]bool) (*node, error) {
	k, integer, ok := typeKind(t)
	if !ok {
		return nil, l.errorf(ptr+"/type", "unknown type %q", t)
	}
	switch k {
	case kindBoolean, kindNull:
		return &node{kind: k, requires: true}, nil
	}
	consumed[k] = true
	n, err := l.classicKeywords(k, m, ptr, true)
	if err != nil {
		return nil, err
	}
	n.integer = integer
	return n, nil
}

// classicKeywords builds a schema of kind k from its group's keywords.
func (l *loader) classicKeywords(k kind, m map[string]any, ptr string, requires bool) (*node, error) {
	n := &node{kind: k, requires: requires}
	var err error
	switch k {
	case kindString:
		err = l.stringKeywords(n, m, ptr)
	case kindNumber:
		err = l.numberKeywords(n, m, ptr)
		if err == nil && l.dialect == draft4 {
			err = l.draft4Exclusive(n, m, ptr)
		}
	case kindObject:
		err = l.objectKeywords(n, m, ptr, true)
	case kindArray:
		err = l.arrayKeywordsInto(n, m, ptr)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

// draft4Exclusive reads draft 4's boolean exclusiveMinimum/Maximum, which
// make minimum/maximum exclusive. everit keeps them as flags the diff never
// looks at; we turn them into the exclusive limits later drafts spell out,
// so that making a bound exclusive is seen.
func (l *loader) draft4Exclusive(n *node, m map[string]any, ptr string) error {
	for _, e := range []struct {
		key          string
		bound, limit **big.Rat
	}{
		{"exclusiveMinimum", &n.minimum, &n.exclusiveMinimum},
		{"exclusiveMaximum", &n.maximum, &n.exclusiveMaximum},
	} {
		v, ok := m[e.key]
		if !ok {
			continue
		}
		b, ok := v.(bool)
		if !ok {
			return l.errorf(ptr+"/"+e.key, "%s must be a boolean in draft 4, not %s", e.key, jsonKind(v))
		}
		if b && *e.bound != nil {
			*e.limit, *e.bound = *e.bound, nil
		}
	}
	return nil
}

func (l *loader) arrayKeywordsInto(n *node, m map[string]any, ptr string) error {
	if v, ok := m["items"]; ok {
		switch v := v.(type) {
		case []any:
			if err := l.tuple(n, v, ptr+"/items"); err != nil {
				return err
			}
		default:
			sub, err := l.load(v, ptr+"/items")
			if err != nil {
				return err
			}
			n.allItems = sub
		}
	}
	if err := l.additionalItems(n, m, ptr); err != nil {
		return err
	}
	return l.arrayCounts(n, m, ptr)
}
