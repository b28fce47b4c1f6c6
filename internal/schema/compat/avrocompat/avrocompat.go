package avrocompat

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/avro"
)

// ErrInvalidSchema is wrapped by every error Parse returns.
var ErrInvalidSchema = errors.New("invalid Avro schema")

// Schema is a parsed Avro schema with its named types resolved.
type Schema struct {
	root *anode
}

// anode is one Avro type. Named types are shared: every reference to a
// record points to its definition, so a recursive record is a cycle.
type anode struct {
	kind        string // null ... string, record, enum, fixed, array, map, union
	name        string // full name of a named type
	aliases     []string
	bareAliases []string // aliases written without a namespace
	fields      []afield
	items       *anode
	values      *anode
	branches    []*anode
	symbols     []string
	enumDefault string
	hasDefault  bool // enum default
	size        int
	logical     string
	precision   int
	scale       int
}

type afield struct {
	name       string
	aliases    []string
	node       *anode
	hasDefault bool
}

// Parse parses an Avro schema (JSON: a primitive name, an object or a
// union array).
func Parse(src []byte) (*Schema, error) {
	s, err := avro.Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	b := &builder{defs: map[string]*anode{}}
	root, err := b.build(s.Root(), "")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	return &Schema{root: root}, nil
}

type builder struct {
	defs map[string]*anode
}

func fullName(name, namespace string) string {
	if strings.Contains(name, ".") || namespace == "" {
		return name
	}
	return namespace + "." + name
}

func shortName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func namespaceOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return ""
}

// build turns a SchemaNode into an anode; ns is the enclosing namespace,
// against which an unqualified reference resolves.
func (b *builder) build(n *avro.SchemaNode, ns string) (*anode, error) {
	switch n.Type {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
		return &anode{kind: n.Type, logical: n.LogicalType, precision: n.Precision, scale: n.Scale}, nil
	case "array":
		items, err := b.build(n.Items, ns)
		return &anode{kind: "array", items: items}, err
	case "map":
		values, err := b.build(n.Values, ns)
		return &anode{kind: "map", values: values}, err
	case "union":
		a := &anode{kind: "union"}
		for i := range n.Branches {
			br, err := b.build(&n.Branches[i], ns)
			if err != nil {
				return nil, err
			}
			a.branches = append(a.branches, br)
		}
		return a, nil
	case "record", "error", "enum", "fixed":
		name := fullName(n.Name, n.Namespace)
		a := &anode{kind: n.Type, name: name, logical: n.LogicalType, precision: n.Precision, scale: n.Scale}
		if a.kind == "error" {
			a.kind = "record"
		}
		own := namespaceOf(name)
		for _, al := range n.Aliases {
			a.aliases = append(a.aliases, fullName(al, own))
			if !strings.Contains(al, ".") {
				a.bareAliases = append(a.bareAliases, al)
			}
		}
		// Defined before its fields are built, so a field may refer back.
		b.defs[name] = a
		switch a.kind {
		case "enum":
			a.symbols = n.Symbols
			a.enumDefault, a.hasDefault = n.EnumDefault, n.HasEnumDefault
		case "fixed":
			a.size = n.Size
		case "record":
			for i := range n.Fields {
				f := &n.Fields[i]
				fn, err := b.build(&f.Type, own)
				if err != nil {
					return nil, err
				}
				a.fields = append(a.fields, afield{name: f.Name, aliases: f.Aliases, node: fn, hasDefault: f.HasDefault})
			}
		}
		return a, nil
	}
	// A reference to a named type defined earlier.
	for _, candidate := range []string{fullName(n.Type, ns), n.Type} {
		if d, ok := b.defs[candidate]; ok {
			return d, nil
		}
	}
	return nil, fmt.Errorf("unknown type %q", n.Type)
}

// Finding is one difference between a writer's and a reader's schema.
type Finding struct {
	// Kind names the rule, after Java's SchemaCompatibility where it has a
	// name: TYPE_MISMATCH, NAME_MISMATCH, FIXED_SIZE_MISMATCH,
	// MISSING_ENUM_SYMBOLS, READER_FIELD_MISSING_DEFAULT_VALUE,
	// MISSING_UNION_BRANCH; and DECIMAL_MISMATCH, AMBIGUOUS_FIELD_ALIAS,
	// plus the compatible FIELD_ADDED_WITH_DEFAULT, FIELD_REMOVED,
	// FIELD_RENAMED, TYPE_RENAMED, TYPE_PROMOTED, ENUM_SYMBOL_DEFAULTED.
	Kind string
	// Path locates it by field names: "/fields/address/fields/zip",
	// "/fields/tags/items", "/" for the top-level type.
	Path string
	// Old and New describe the writer's and the reader's side.
	Old, New string
	// Compatible reports whether the reader still reads what the writer
	// wrote.
	Compatible bool
}

// Finding kinds.
const (
	typeMismatch            = "TYPE_MISMATCH"
	nameMismatch            = "NAME_MISMATCH"
	fixedSizeMismatch       = "FIXED_SIZE_MISMATCH"
	missingEnumSymbols      = "MISSING_ENUM_SYMBOLS"
	readerFieldMissingValue = "READER_FIELD_MISSING_DEFAULT_VALUE"
	missingUnionBranch      = "MISSING_UNION_BRANCH"
	decimalMismatch         = "DECIMAL_MISMATCH"
	ambiguousFieldAlias     = "AMBIGUOUS_FIELD_ALIAS"
	fieldAddedWithDefault   = "FIELD_ADDED_WITH_DEFAULT"
	fieldRemoved            = "FIELD_REMOVED"
	fieldRenamed            = "FIELD_RENAMED"
	typeRenamed             = "TYPE_RENAMED"
	typePromoted            = "TYPE_PROMOTED"
	enumSymbolDefaulted     = "ENUM_SYMBOL_DEFAULTED"
)

// explanations are worded without before and after: in a FORWARD check
// the writer's schema is the newer one. {w} and {r} name the writer's and
// the reader's schemas, {old} and {new} describe their sides.
var explanations = map[string]string{
	typeMismatch:            "{w} writes {old} where {r} reads {new}, and no promotion turns one into the other",
	nameMismatch:            "the type is named {old} in {w} and {new} in {r}; a reader matches named types by name or alias",
	fixedSizeMismatch:       "the fixed size is {old} bytes in {w} and {new} in {r}: the reader would read the wrong number of bytes",
	missingEnumSymbols:      "{w} can write the symbols {old}, which {r}'s enum {new} lacks, and {r}'s enum has no default to read them as",
	readerFieldMissingValue: "{r} reads the field {new}, which {w} does not write, and gives it no default",
	missingUnionBranch:      "{w} can write {old} here, which matches no branch of {r}'s union {new}",
	decimalMismatch:         "the decimal is {old} in {w} and {new} in {r} (precision, scale): the same bytes would mean a different number",
	ambiguousFieldAlias:     "{w}'s fields {old} both resolve to {r}'s field {new}, by name and alias",
	fieldAddedWithDefault:   "{r} reads the field {new}, which {w} does not write, with its default",
	fieldRemoved:            "{w} writes the field {old}, which {r} does not read; it is skipped",
	fieldRenamed:            "{r}'s field {new} reads {w}'s field {old} through an alias",
	typeRenamed:             "{w}'s type {old} is read as {r}'s {new}, matched by short name or alias",
	typePromoted:            "{w}'s {old} is promoted to {r}'s {new}",
	enumSymbolDefaulted:     "{w}'s symbols {old} are unknown to {r} and read as its default {new}",
}

// Explain says what f means for a reader, naming the writer's and the
// reader's schemas writer and reader.
func (f Finding) Explain(writer, reader string) string {
	tmpl, ok := explanations[f.Kind]
	if !ok {
		tmpl = strings.ToLower(strings.ReplaceAll(f.Kind, "_", " "))
	}
	return strings.NewReplacer("{w}", writer, "{r}", reader, "{old}", f.Old, "{new}", f.New).Replace(tmpl)
}

// Check lists what lies between data written with writer and its reading
// with reader. The reader reads it when no finding is incompatible.
func Check(writer, reader *Schema) []Finding {
	c := &checker{seen: map[[2]*anode]bool{}}
	c.check(reader.root, writer.root, "")
	return c.findings
}

// Compatible reports whether every finding is compatible.
func Compatible(findings []Finding) bool {
	for _, f := range findings {
		if !f.Compatible {
			return false
		}
	}
	return true
}

type checker struct {
	findings []Finding
	seen     map[[2]*anode]bool
}

func (c *checker) add(kind, path, old, nw string, compatible bool) {
	if path == "" {
		path = "/"
	}
	c.findings = append(c.findings, Finding{Kind: kind, Path: path, Old: old, New: nw, Compatible: compatible})
}

// promotions are the specification's: what a writer's type may be read as.
var promotions = map[string][]string{
	"int":    {"long", "float", "double"},
	"long":   {"float", "double"},
	"float":  {"double"},
	"string": {"bytes"},
	"bytes":  {"string"},
}

func describe(n *anode) string {
	switch n.kind {
	case "record", "enum", "fixed":
		return n.kind + " " + n.name
	case "array":
		return "array<" + describe(n.items) + ">"
	case "map":
		return "map<" + describe(n.values) + ">"
	case "union":
		parts := make([]string, len(n.branches))
		for i, b := range n.branches {
			parts[i] = describe(b)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return n.kind
}

func (c *checker) check(r, w *anode, path string) {
	pair := [2]*anode{r, w}
	if c.seen[pair] {
		return
	}
	c.seen[pair] = true

	if w.kind == "union" {
		// Every branch the writer may have used must be readable.
		for i, wb := range w.branches {
			if r.kind != "union" {
				c.check(r, wb, path)
				continue
			}
			rb := matchBranch(r, wb)
			if rb == nil {
				c.add(missingUnionBranch, path, fmt.Sprintf("%s (writer branch %d)", describe(wb), i), describe(r), false)
				continue
			}
			c.check(rb, wb, path)
		}
		return
	}
	if r.kind == "union" {
		rb := matchBranch(r, w)
		if rb == nil {
			c.add(missingUnionBranch, path, describe(w), describe(r), false)
			return
		}
		c.check(rb, w, path)
		return
	}
	if r.kind != w.kind {
		if slices.Contains(promotions[w.kind], r.kind) {
			c.add(typePromoted, path, w.kind, r.kind, true)
			return
		}
		c.add(typeMismatch, path, describe(w), describe(r), false)
		return
	}
	switch r.kind {
	case "record", "enum", "fixed":
		if !namesMatch(r, w) {
			c.add(nameMismatch, path, w.name, r.name, false)
			return
		}
		if r.name != w.name {
			c.add(typeRenamed, path, w.name, r.name, true)
		}
	}
	switch r.kind {
	case "record":
		c.checkRecord(r, w, path)
	case "enum":
		c.checkEnum(r, w, path)
	case "array":
		c.check(r.items, w.items, path+"/items")
	case "map":
		c.check(r.values, w.values, path+"/values")
	case "fixed":
		if r.size != w.size {
			c.add(fixedSizeMismatch, path, strconv.Itoa(w.size), strconv.Itoa(r.size), false)
			return
		}
	}
	if r.logical == "decimal" && w.logical == "decimal" && (r.precision != w.precision || r.scale != w.scale) {
		c.add(decimalMismatch, path, fmt.Sprintf("decimal(%d,%d)", w.precision, w.scale), fmt.Sprintf("decimal(%d,%d)", r.precision, r.scale), false)
	}
}

func (c *checker) checkRecord(r, w *anode, path string) {
	// The writer's field each reader field reads: by name, else by one of
	// the reader field's aliases.
	byName := make(map[string]int, len(w.fields))
	for i, f := range w.fields {
		byName[f.name] = i
	}
	claimed := make([]bool, len(w.fields))
	for _, rf := range r.fields {
		fp := path + "/fields/" + rf.name
		wi, ok := byName[rf.name]
		if !ok {
			for _, al := range rf.aliases {
				if wi, ok = byName[al]; ok {
					c.add(fieldRenamed, fp, w.fields[wi].name, rf.name, true)
					break
				}
			}
		}
		if !ok {
			if rf.hasDefault {
				c.add(fieldAddedWithDefault, fp, "", rf.name, true)
			} else {
				c.add(readerFieldMissingValue, fp, "", rf.name, false)
			}
			continue
		}
		claimed[wi] = true
		c.check(rf.node, w.fields[wi].node, fp)
	}
	for i, wf := range w.fields {
		if !claimed[i] {
			c.add(fieldRemoved, path+"/fields/"+wf.name, wf.name, "", true)
		}
	}
	// Two writer fields may not land on one reader field, one by its name
	// and one by an alias: which value wins would be arbitrary.
	owner := map[string]string{}
	for _, wf := range w.fields {
		rf := readerFieldFor(r, wf.name)
		if rf == "" {
			continue
		}
		if prev, dup := owner[rf]; dup {
			c.add(ambiguousFieldAlias, path+"/fields/"+rf, prev+", "+wf.name, rf, false)
			continue
		}
		owner[rf] = wf.name
	}
}

// readerFieldFor names the reader field a writer field resolves to: the
// field of that name, else the first whose aliases list it.
func readerFieldFor(r *anode, name string) string {
	for _, f := range r.fields {
		if f.name == name {
			return f.name
		}
	}
	for _, f := range r.fields {
		if slices.Contains(f.aliases, name) {
			return f.name
		}
	}
	return ""
}

func (c *checker) checkEnum(r, w *anode, path string) {
	var missing []string
	for _, s := range w.symbols {
		if !slices.Contains(r.symbols, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return
	}
	list := "[" + strings.Join(missing, ", ") + "]"
	if r.hasDefault {
		c.add(enumSymbolDefaulted, path, list, r.enumDefault, true)
		return
	}
	c.add(missingEnumSymbols, path, list, "["+strings.Join(r.symbols, ", ")+"]", false)
}

// namesMatch: the full names are equal, or the short names (the
// specification matches unqualified names), or an alias of the reader's
// type names the writer's.
func namesMatch(r, w *anode) bool {
	if r.name == w.name || shortName(r.name) == shortName(w.name) {
		return true
	}
	return slices.Contains(r.aliases, w.name) || slices.Contains(r.bareAliases, shortName(w.name))
}

// matchBranch picks the reader union's branch for a writer type: the first
// of the same kind and full name (or alias), else of the same short name,
// else the first the writer's type promotes to. A fixed must also match in
// size.
func matchBranch(r, w *anode) *anode {
	named := func(n *anode) bool { return n.kind == "record" || n.kind == "enum" || n.kind == "fixed" }
	sameKind := func(b *anode) bool { return b.kind == w.kind && (b.kind != "fixed" || b.size == w.size) }
	for _, b := range r.branches {
		if sameKind(b) && (!named(b) || b.name == w.name || slices.Contains(b.aliases, w.name)) {
			return b
		}
	}
	if named(w) {
		for _, b := range r.branches {
			if sameKind(b) && (shortName(b.name) == shortName(w.name) || slices.Contains(b.bareAliases, shortName(w.name))) {
				return b
			}
		}
	}
	best := -1
	for _, target := range promotions[w.kind] {
		for i, b := range r.branches {
			if b.kind == target && (best < 0 || i < best) {
				best = i
				break
			}
		}
	}
	if best < 0 {
		return nil
	}
	return r.branches[best]
}
