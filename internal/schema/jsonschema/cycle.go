package jsonschema

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
)

// A schema that applies itself to the value it is validating, through a
// chain of $ref and in-place applicators (allOf, anyOf, oneOf, not,
// if/then/else, dependentSchemas) that never moves to a part of the value,
// cannot be evaluated: {"$ref": "#"} is the smallest. The validator library
// finds such a cycle only while validating, and reports it on every record
// as a "reference cycle" error, a schema bug passed off as bad data. So
// Compile refuses it, naming the cycle.
//
// Recursion through keywords that move into the value (properties, items,
// additionalProperties, contains, ...) is legitimate, a tree or a linked
// list, and stays accepted: each step consumes a level of the value, which
// is finite.
//
// $dynamicRef and $recursiveRef resolve while validating, by the dynamic
// scope. Their edge is followed only when one schema in the document can
// be their target; otherwise the library's own check remains, at
// validation time.
//
// Without cycles, in-place applicators still multiply: {"allOf": [{"$ref":
// "#/$defs/a"}, {"$ref": "#/$defs/a"}]} over twenty levels of such
// definitions applies four million schemas to every value (45s per
// invalid record when tried on this project's machine). So Compile also counts, for each schema, how many schemas
// it applies to one value, and refuses a schema past maxApplied.

// maxApplied bounds how many schemas one schema may apply to a single
// value through in-place applicators, itself included. Real schemas apply
// tens; a chain of definitions each applying the previous one twice
// passes it at twelve levels.
const maxApplied = 10_000

// inPlace lists the subschemas s applies to the very value s validates,
// with the keyword that applies each.
func inPlace(s *jsv.Schema, dynamic map[string][]*jsv.Schema, recursive []*jsv.Schema) []edge {
	var out []edge
	add := func(kw string, t *jsv.Schema) {
		if t != nil {
			out = append(out, edge{kw, t})
		}
	}
	add("$ref", s.Ref)
	if t := s.RecursiveRef; t != nil {
		if !t.RecursiveAnchor {
			add("$recursiveRef", t)
		} else if len(recursive) == 1 {
			add("$recursiveRef", recursive[0])
		}
	}
	if d := s.DynamicRef; d != nil && d.Ref != nil {
		switch {
		case d.Anchor == "" || d.Ref.DynamicAnchor != d.Anchor:
			add("$dynamicRef", d.Ref) // a plain reference
		case len(dynamic[d.Anchor]) == 1:
			add("$dynamicRef", dynamic[d.Anchor][0])
		}
	}
	for i, t := range s.AllOf {
		add(fmt.Sprintf("allOf/%d", i), t)
	}
	for i, t := range s.AnyOf {
		add(fmt.Sprintf("anyOf/%d", i), t)
	}
	for i, t := range s.OneOf {
		add(fmt.Sprintf("oneOf/%d", i), t)
	}
	add("not", s.Not)
	add("if", s.If)
	add("then", s.Then)
	add("else", s.Else)
	for _, k := range slices.Sorted(maps.Keys(s.DependentSchemas)) {
		add(child("dependentSchemas", k), s.DependentSchemas[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Dependencies)) {
		if t, ok := s.Dependencies[k].(*jsv.Schema); ok {
			add(child("dependencies", k), t)
		}
	}
	return out
}

type edge struct {
	keyword string
	to      *jsv.Schema
}

// frame is one schema on the path of checkCycles' walk: its in-place
// edges, and the next one to take.
type frame struct {
	s     *jsv.Schema
	edges []edge
	next  int
}

// subschemas lists every subschema of s, in place or not: the walk that
// finds every schema Compile compiled.
func subschemas(s *jsv.Schema) []*jsv.Schema {
	out := []*jsv.Schema{
		s.Ref, s.RecursiveRef, s.Not, s.If, s.Then, s.Else, s.PropertyNames,
		s.UnevaluatedProperties, s.Contains, s.Items2020, s.UnevaluatedItems, s.ContentSchema,
	}
	if s.DynamicRef != nil {
		out = append(out, s.DynamicRef.Ref)
	}
	out = append(out, s.AllOf...)
	out = append(out, s.AnyOf...)
	out = append(out, s.OneOf...)
	out = append(out, s.PrefixItems...)
	for _, t := range s.Properties {
		out = append(out, t)
	}
	for _, t := range s.PatternProperties {
		out = append(out, t)
	}
	for _, t := range s.DependentSchemas {
		out = append(out, t)
	}
	for _, v := range s.Dependencies {
		if t, ok := v.(*jsv.Schema); ok {
			out = append(out, t)
		}
	}
	for _, v := range []any{s.AdditionalProperties, s.AdditionalItems, s.Items} {
		switch v := v.(type) {
		case *jsv.Schema:
			out = append(out, v)
		case []*jsv.Schema:
			out = append(out, v...)
		}
	}
	return out
}

// checkBounded returns an error naming the first in-place cycle reachable
// from root, or the first schema that applies more than maxApplied schemas
// to one value, or nil.
func checkBounded(name string, root *jsv.Schema) error {
	// Every schema reachable from root, and the candidates of dynamic
	// references.
	seen := map[*jsv.Schema]bool{root: true}
	all := []*jsv.Schema{root}
	dynamic := map[string][]*jsv.Schema{}
	var recursive []*jsv.Schema
	for i := 0; i < len(all); i++ {
		s := all[i]
		if s.DynamicAnchor != "" {
			dynamic[s.DynamicAnchor] = append(dynamic[s.DynamicAnchor], s)
		}
		if s.RecursiveAnchor {
			recursive = append(recursive, s)
		}
		for _, t := range subschemas(s) {
			if t != nil && !seen[t] {
				seen[t] = true
				all = append(all, t)
			}
		}
	}

	// Depth-first over in-place edges, with an explicit stack so that a
	// long chain of references cannot exhaust the goroutine's stack.
	const (
		white = iota
		grey  // on the current path
		black // done: no cycle through it
	)
	color := make(map[*jsv.Schema]int, len(all))
	applied := make(map[*jsv.Schema]int, len(all)) // of black schemas
	for _, start := range all {
		if color[start] != white {
			continue
		}
		path := []frame{{s: start, edges: inPlace(start, dynamic, recursive)}}
		color[start] = grey
		for len(path) > 0 {
			top := &path[len(path)-1]
			if top.next == len(top.edges) {
				// Every schema top applies in place is done.
				n := 1
				for _, e := range top.edges {
					n = min(n+applied[e.to], maxApplied+1)
				}
				if n > maxApplied {
					return fmt.Errorf("compiling schema %q: %w: %s applies more than %d schemas to each value it checks "+
						"(allOf, anyOf, oneOf and $ref reaching the same schemas again and again), so validating one record "+
						"could take minutes", name, ErrTooExpensive, where(top.s), maxApplied)
				}
				applied[top.s] = n
				color[top.s] = black
				path = path[:len(path)-1]
				continue
			}
			e := top.edges[top.next]
			top.next++
			switch color[e.to] {
			case grey:
				return cycleError(name, path, e)
			case white:
				color[e.to] = grey
				path = append(path, frame{s: e.to, edges: inPlace(e.to, dynamic, recursive)})
			}
		}
	}
	return nil
}

// cycleError describes the cycle closed by e from the current path: from
// the schema e returns to, each keyword taken, back to it.
func cycleError(name string, path []frame, e edge) error {
	start := 0
	for i := range path {
		if path[i].s == e.to {
			start = i
		}
	}
	var b strings.Builder
	b.WriteString(where(path[start].s))
	for _, f := range path[start:] {
		taken := f.edges[f.next-1]
		b.WriteString(" -(" + taken.keyword + ")-> ")
		b.WriteString(where(taken.to))
	}
	return fmt.Errorf("compiling schema %q: %w %s: each step applies a schema to the same value without "+
		"moving into it, so validation could never end (recursion must go through properties, items or the like)",
		name, ErrRefCycle, b.String())
}

// where names a schema by its location in the document ("#/$defs/a"), or
// by its absolute URL when it has an $id of its own.
func where(s *jsv.Schema) string {
	loc := s.Location
	if strings.HasPrefix(loc, resourcePrefix) {
		if _, frag, ok := strings.Cut(loc, "#"); ok {
			return "#" + frag
		}
		return "#"
	}
	return loc
}
