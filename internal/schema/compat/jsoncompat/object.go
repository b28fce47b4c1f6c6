package jsoncompat

import (
	"slices"
	"strings"
)

// compareObject ports Confluent's ObjectSchemaDiff. Its central idea is the
// content model: an open one (no additionalProperties: false, no schema for
// additional or pattern properties) may hold any property with any value,
// so a property added to it may clash with what writers already put there.
func (c *context) compareObject(o, u *node) {
	c.compareRequired(o, u)
	c.compareProperties(o, u)
	c.compareDependencies(o, u)
	c.compareAdditionalProperties(o, u)
	c.compareUnevaluatedProperties(o, u)
	c.compareBound("maxProperties", o.maxProps, u.maxProps, maxPropertiesAdded, maxPropertiesRemoved, maxPropertiesIncreased, maxPropertiesDecreased)
	c.compareBound("minProperties", o.minProps, u.minProps, minPropertiesAdded, minPropertiesRemoved, minPropertiesIncreased, minPropertiesDecreased)
}

// compareRequired looks only at properties both schemas declare, as
// Confluent does: a required name with no property schema goes unnoticed.
func (c *context) compareRequired(o, u *node) {
	c.push("required")
	defer c.pop()
	for _, k := range sortedKeys(o.properties) {
		up, ok := u.properties[k]
		if !ok {
			continue
		}
		or, ur := o.required[k], u.required[k]
		switch {
		case or && !ur:
			c.addAt(k, requiredAttributeRemoved, "", "")
		case !or && ur && up.def != nil:
			c.addAt(k, requiredAttributeWithDefaultAdded, "", "")
		case !or && ur:
			c.addAt(k, requiredAttributeAdded, "", "")
		}
	}
}

func (c *context) compareProperties(o, u *node) {
	c.push("properties")
	defer c.pop()
	keys := sortedKeys(o.properties)
	for _, k := range sortedKeys(u.properties) {
		if _, ok := o.properties[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.push(k)
		op, up := o.properties[k], u.properties[k]
		switch {
		case up == nil:
			c.propertyRemoved(op, u, k)
		case op == nil:
			c.propertyAdded(o, u, up, k)
		default:
			c.compare(op, up)
		}
		c.pop()
	}
}

// propertyRemoved judges a property the reader no longer declares by the
// reader's content model, the one its values now fall into.
func (c *context) propertyRemoved(op, u *node, k string) {
	if isOpenObject(u) {
		c.add(propertyRemovedFromOpen, "", "")
		return
	}
	if partial := partialObjectSchema(u, k); partial != nil {
		s := c.sub()
		s.compare(op, partial)
		c.diffs = append(c.diffs, s.diffs...)
		if s.compatible() {
			c.add(propertyRemovedIsCovered, "", "")
		} else {
			c.add(propertyRemovedNotCovered, "", "")
		}
		return
	}
	if deref(op).kind == kindFalse {
		c.add(propertyWithFalseRemovedFromClosed, "", "")
	} else {
		c.add(propertyRemovedFromClosed, "", "")
	}
}

// propertyAdded judges a property the writer did not declare by the
// writer's content model, the one its values came from.
func (c *context) propertyAdded(o, u, up *node, k string) {
	required, withDefault := u.required[k], up.def != nil
	if isOpenObject(o) {
		switch {
		case deref(up).kind == kindEmpty:
			c.add(propertyWithEmptySchemaAddedToOpen, "", "")
		case required && withDefault:
			c.add(requiredPropertyWithDefaultAddedToOpen, "", "")
		case required:
			c.add(requiredPropertyAddedToOpen, "", "")
		default:
			c.add(optionalPropertyAddedToOpen, "", "")
		}
		return
	}
	if partial := partialObjectSchema(o, k); partial != nil {
		s := c.sub()
		s.compare(partial, up)
		c.diffs = append(c.diffs, s.diffs...)
		if s.compatible() {
			c.add(propertyAddedIsCovered, "", "")
		} else {
			c.add(propertyAddedNotCovered, "", "")
		}
	}
	switch {
	case required && withDefault:
		c.add(requiredPropertyWithDefaultAddedToUnopen, "", "")
	case required:
		c.add(requiredPropertyAddedToUnopen, "", "")
	default:
		c.add(optionalPropertyAddedToUnopen, "", "")
	}
}

// isOpenObject: any undeclared property is accepted with any value. An
// unevaluatedProperties that is absent or true keeps the model open.
func isOpenObject(n *node) bool {
	if len(n.patternProps) > 0 || n.additional != nil || n.closed {
		return false
	}
	uv := n.unevaluatedProps
	return uv == nil || deref(uv).kind == kindEmpty
}

// partialObjectSchema is the schema an undeclared property k falls under in
// a partially open model: the first matching patternProperties entry
// (search semantics, as Java's find), else additionalProperties, else
// unevaluatedProperties when it is a real schema.
func partialObjectSchema(n *node, k string) *node {
	for _, pp := range n.patternProps {
		if pp.re != nil && pp.re.MatchString(k) {
			return pp.schema
		}
	}
	if n.additional != nil {
		return n.additional
	}
	if !n.closed && n.unevaluatedProps != nil {
		if k := deref(n.unevaluatedProps).kind; k != kindFalse && k != kindEmpty {
			return n.unevaluatedProps
		}
	}
	return nil
}

func (c *context) compareDependencies(o, u *node) {
	c.push("dependencies")
	defer c.pop()
	for _, k := range unionKeys(o.propertyDeps, u.propertyDeps) {
		od, oOK := o.propertyDeps[k]
		ud, uOK := u.propertyDeps[k]
		switch {
		case !uOK:
			c.addAt(k, dependencyArrayRemoved, strings.Join(od, ","), "")
		case !oOK:
			c.addAt(k, dependencyArrayAdded, "", strings.Join(ud, ","))
		default:
			extended, narrowed := containsAll(ud, od), containsAll(od, ud)
			switch {
			case extended && narrowed:
			case extended:
				c.addAt(k, dependencyArrayExtended, strings.Join(od, ","), strings.Join(ud, ","))
			case narrowed:
				c.addAt(k, dependencyArrayNarrowed, strings.Join(od, ","), strings.Join(ud, ","))
			default:
				c.addAt(k, dependencyArrayChanged, strings.Join(od, ","), strings.Join(ud, ","))
			}
		}
	}
	for _, k := range unionKeys(o.schemaDeps, u.schemaDeps) {
		os, us := o.schemaDeps[k], u.schemaDeps[k]
		switch {
		case us == nil:
			c.addAt(k, dependencySchemaRemoved, "", "")
		case os == nil:
			c.addAt(k, dependencySchemaAdded, "", "")
		default:
			c.push(k)
			c.compare(os, us)
			c.pop()
		}
	}
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := sortedKeys(a)
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func (c *context) compareAdditionalProperties(o, u *node) {
	c.push("additionalProperties")
	defer c.pop()
	switch {
	case o.closed != u.closed:
		if !u.closed {
			c.add(additionalPropertiesAdded, "", "")
		} else {
			c.add(additionalPropertiesRemoved, "", "")
		}
	case o.additional == nil && u.additional != nil:
		c.add(additionalPropertiesNarrowed, "", "")
	case o.additional != nil && u.additional == nil:
		c.add(additionalPropertiesExtended, "", "")
	default:
		c.compare(o.additional, u.additional)
	}
}

// compareUnevaluatedProperties follows Confluent's compareUnevaluatedItems:
// false forbids, absent or true accepts anything, a schema is in between.
func (c *context) compareUnevaluatedProperties(o, u *node) {
	c.compareUnevaluated("unevaluatedProperties", o.unevaluatedProps, u.unevaluatedProps,
		unevaluatedPropertiesAdded, unevaluatedPropertiesRemoved, unevaluatedPropertiesExtended, unevaluatedPropertiesNarrowed)
}

func (c *context) compareUnevaluated(attr string, o, u *node, added, removed, extended, narrowed string) {
	if o == nil && u == nil {
		return
	}
	c.push(attr)
	defer c.pop()
	ok, uk := kindOrNil(o), kindOrNil(u)
	switch {
	case o == nil && uk == kindFalse:
		c.add(removed, "", "")
	case o == nil:
		c.add(narrowed, "", "")
	case u == nil && ok == kindFalse:
		c.add(added, "", "")
	case u == nil:
		c.add(extended, "", "")
	case ok == kindFalse && uk != kindFalse:
		c.add(added, "", "")
	case ok != kindFalse && uk == kindFalse:
		c.add(removed, "", "")
	case ok == kindEmpty && uk != kindEmpty:
		c.add(narrowed, "", "")
	case ok != kindEmpty && uk == kindEmpty:
		c.add(extended, "", "")
	default:
		c.compare(o, u)
	}
}

func kindOrNil(n *node) kind {
	if n == nil {
		return kindEmpty
	}
	return deref(n).kind
}
