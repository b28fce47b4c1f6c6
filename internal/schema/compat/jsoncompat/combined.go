package jsoncompat

import (
	"slices"
	"strconv"
)

// compareCombined ports Confluent's CombinedSchemaDiff. After the criteria
// (a oneOf may become an anyOf, not the reverse), the subschemas are
// matched: each writer subschema needs a distinct, compatible reader
// subschema, found as a maximum matching in the bipartite graph of
// compatible pairs.
func (c *context) compareCombined(o, u *node) {
	if c.compareCriteria(o, u) == combinedTypeChanged {
		return
	}
	os, us := c.distinct(o.subs), c.distinct(u.subs)
	switch {
	case len(os) < len(us):
		if u.criterion == allOf {
			c.add(productTypeExtended, strconv.Itoa(len(os)), strconv.Itoa(len(us)))
		} else {
			c.add(sumTypeExtended, strconv.Itoa(len(os)), strconv.Itoa(len(us)))
		}
	case len(os) > len(us):
		if o.criterion == anyOf || o.criterion == oneOf {
			c.add(sumTypeNarrowed, strconv.Itoa(len(os)), strconv.Itoa(len(us)))
		} else {
			c.add(productTypeNarrowed, strconv.Itoa(len(os)), strconv.Itoa(len(us)))
		}
	}

	type edge struct {
		to    int
		diffs []Difference
	}
	edges := make([][]edge, len(os))
	for i, osub := range os {
		c.pushAs(o.criterion.String()+"/"+strconv.Itoa(i), userStep(o, osub)...)
		for j, usub := range us {
			if s := c.try(osub, usub); s != nil {
				edges[i] = append(edges[i], edge{j, s.diffs})
			}
		}
		c.pop()
		// Pairs that differ least are tried first, so that identical
		// subschemas pair up and their neighbours' changes are the ones
		// reported.
		slices.SortStableFunc(edges[i], func(a, b edge) int { return len(a.diffs) - len(b.diffs) })
	}
	adj := make([][]int, len(os))
	for i, es := range edges {
		for _, e := range es {
			adj[i] = append(adj[i], e.to)
		}
	}
	matched := 0
	match := maxMatching(adj, len(us))
	for i, j := range match {
		if j < 0 {
			continue
		}
		matched++
		for _, e := range edges[i] {
			if e.to == j {
				c.diffs = append(c.diffs, e.diffs...)
				break
			}
		}
	}
	if matched < min(len(os), len(us)) {
		c.add(combinedTypeSubschemasChanged, "", "")
		c.diffs[len(c.diffs)-1].Because = c.unmatched(o, os, us, match)
	}
}

// unmatched explains a failed matching: for each writer subschema left
// without a partner, the differences with the reader subschema left over
// that differs least from it (incompatibly, or there would be a partner).
func (c *context) unmatched(o *node, os, us []*node, match []int) []Difference {
	sh := c.shared
	was := sh.explaining
	sh.explaining = true
	defer func() { sh.explaining = was }()
	taken := make([]bool, len(us))
	for _, j := range match {
		if j >= 0 {
			taken[j] = true
		}
	}
	var because []Difference
	for i, j := range match {
		if j >= 0 {
			continue
		}
		var best []Difference
		for k, usub := range us {
			if taken[k] {
				continue
			}
			s := c.sub()
			s.pushAs(o.criterion.String()+"/"+strconv.Itoa(i), userStep(o, os[i])...)
			s.compare(os[i], usub)
			if best == nil || len(s.diffs) < len(best) {
				best = s.diffs
			}
		}
		because = append(because, best...)
	}
	for i := range because {
		because[i].Compatible = c.rules.compatible(because[i].Type)
	}
	return because
}

// userStep is the step from combined schema n into its subschema sub in the
// user's schema: none when the loader made n (the user wrote one schema
// object, or a type array), else the keyword and sub's index. (An allOf
// the loader flattened into the user's allOf shifts the indices after it.)
func userStep(n, sub *node) []string {
	if n.synthetic || n.typeArray {
		return nil
	}
	return []string{n.criterion.String(), strconv.Itoa(max(0, slices.Index(n.subs, sub)))}
}

func (c *context) compareCriteria(o, u *node) string {
	oc, uc := o.criterion, u.criterion
	if oc == uc {
		return ""
	}
	single := func(n *node) bool { return len(n.subs) == 1 }
	t := combinedTypeChanged
	if uc == anyOf || (single(o) && single(u)) || (single(o) && uc == oneOf) || (single(u) && oc == allOf) {
		t = combinedTypeExtended
	}
	c.add(t, oc.String(), uc.String())
	return t
}

// distinct drops repeated subschemas, as Confluent's set of subschemas does.
func (c *context) distinct(subs []*node) []*node {
	out := make([]*node, 0, len(subs))
	seen := make(map[fingerprint]bool, len(subs))
	for _, s := range subs {
		fp := c.shared.fp.of(deref(s))
		if seen[fp] {
			continue
		}
		seen[fp] = true
		out = append(out, s)
	}
	return out
}

// maxMatching finds a maximum matching of a bipartite graph by augmenting
// paths (Kuhn's algorithm; the sides are small). adj[i] lists the right
// vertices left vertex i may pair with, in order of preference. It returns
// each left vertex's partner, or -1.
func maxMatching(adj [][]int, right int) []int {
	left := make([]int, len(adj))
	owner := make([]int, right)
	for i := range left {
		left[i] = -1
	}
	for j := range owner {
		owner[j] = -1
	}
	var augment func(i int, seen []bool) bool
	augment = func(i int, seen []bool) bool {
		for _, j := range adj[i] {
			if seen[j] {
				continue
			}
			seen[j] = true
			if owner[j] < 0 || augment(owner[j], seen) {
				owner[j], left[i] = i, j
				return true
			}
		}
		return false
	}
	for i := range adj {
		augment(i, make([]bool, right))
	}
	return left
}
