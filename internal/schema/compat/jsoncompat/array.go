package jsoncompat

import "strconv"

// compareArray ports Confluent's ArraySchemaDiff: the schema for all items,
// the tuple positions (judged by content model, as properties are), the
// schema for items past the tuple, and the counting keywords. A change of
// "contains" itself goes unnoticed there, and here.
func (c *context) compareArray(o, u *node) {
	c.push("items")
	c.compare(o.allItems, u.allItems)
	c.pop()
	c.compareTuple(o, u)
	c.compareAdditionalItems(o, u)
	c.compareUnevaluated("unevaluatedItems", o.unevaluatedItems, u.unevaluatedItems,
		unevaluatedItemsAdded, unevaluatedItemsRemoved, unevaluatedItemsExtended, unevaluatedItemsNarrowed)
	c.compareBound("maxItems", o.maxItems, u.maxItems, maxItemsAdded, maxItemsRemoved, maxItemsIncreased, maxItemsDecreased)
	c.compareBound("minItems", o.minItems, u.minItems, minItemsAdded, minItemsRemoved, minItemsIncreased, minItemsDecreased)
	if o.uniqueItems != u.uniqueItems {
		if o.uniqueItems {
			c.addAt("uniqueItems", uniqueItemsRemoved, "true", "false")
		} else {
			c.addAt("uniqueItems", uniqueItemsAdded, "false", "true")
		}
	}
	c.compareBound("maxContains", o.maxContains, u.maxContains, maxContainsAdded, maxContainsRemoved, maxContainsIncreased, maxContainsDecreased)
	c.compareBound("minContains", o.minContains, u.minContains, minContainsAdded, minContainsRemoved, minContainsIncreased, minContainsDecreased)
}

func (c *context) compareTuple(o, u *node) {
	n := min(len(o.items), len(u.items))
	for i := range n {
		c.pushAs("items/"+strconv.Itoa(i), "items", strconv.Itoa(i))
		c.compare(o.items[i], u.items[i])
		c.pop()
	}
	for i := n; i < len(o.items); i++ {
		c.pushAs("items/"+strconv.Itoa(i), "items", strconv.Itoa(i))
		c.itemRemoved(o.items[i], u)
		c.pop()
	}
	for i := n; i < len(u.items); i++ {
		c.pushAs("items/"+strconv.Itoa(i), "items", strconv.Itoa(i))
		c.itemAdded(o, u.items[i])
		c.pop()
	}
}

func (c *context) itemRemoved(oi, u *node) {
	if isOpenArray(u) {
		c.add(itemRemovedFromOpen, "", "")
		return
	}
	if partial := partialArraySchema(u); partial != nil {
		s := c.sub()
		s.compare(oi, partial)
		c.diffs = append(c.diffs, s.diffs...)
		if s.compatible() {
			c.add(itemRemovedIsCovered, "", "")
		} else {
			c.add(itemRemovedNotCovered, "", "")
		}
		return
	}
	if deref(oi).kind == kindFalse {
		c.add(itemWithFalseRemovedFromClosed, "", "")
	} else {
		c.add(itemRemovedFromClosed, "", "")
	}
}

func (c *context) itemAdded(o, ui *node) {
	if isOpenArray(o) {
		if deref(ui).kind == kindEmpty {
			c.add(itemWithEmptySchemaAddedToOpen, "", "")
		} else {
			c.add(itemAddedToOpen, "", "")
		}
		return
	}
	if partial := partialArraySchema(o); partial != nil {
		s := c.sub()
		s.compare(partial, ui)
		c.diffs = append(c.diffs, s.diffs...)
		if s.compatible() {
			c.add(itemAddedIsCovered, "", "")
		} else {
			c.add(itemAddedNotCovered, "", "")
		}
		return
	}
	c.add(itemAddedToClosed, "", "")
}

// isOpenArray: any item past the tuple is accepted with any value.
func isOpenArray(n *node) bool {
	if n.closedItems || n.additionalItems != nil {
		return false
	}
	uv := n.unevaluatedItems
	return uv == nil || deref(uv).kind == kindEmpty
}

// partialArraySchema is the schema items past the tuple fall under, when
// there is one.
func partialArraySchema(n *node) *node {
	if n.additionalItems != nil {
		return n.additionalItems
	}
	if !n.closedItems && n.unevaluatedItems != nil {
		if k := deref(n.unevaluatedItems).kind; k != kindFalse && k != kindEmpty {
			return n.unevaluatedItems
		}
	}
	return nil
}

func (c *context) compareAdditionalItems(o, u *node) {
	c.push("additionalItems")
	defer c.pop()
	switch {
	case o.closedItems != u.closedItems:
		if !o.closedItems {
			c.add(additionalItemsRemoved, "", "")
		} else {
			c.add(additionalItemsAdded, "", "")
		}
	case o.additionalItems == nil && u.additionalItems != nil:
		c.add(additionalItemsNarrowed, "", "")
	case o.additionalItems != nil && u.additionalItems == nil:
		c.add(additionalItemsExtended, "", "")
	default:
		c.compare(o.additionalItems, u.additionalItems)
	}
}
