package avro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/avro"
)

// Normal returns the normal form of an Avro schema (its JSON text): the
// parsed schema written back with every named type under its full name
// (no "namespace" key) and each attribute in a fixed order, aliases sorted,
// custom properties sorted by key, whitespace removed, a field's default
// "order":"ascending" dropped. Two schemas that differ only in the order of
// their JSON keys, in how their names are qualified or in layout have one
// normal form; the order of fields, symbols and union branches is kept, as
// it is part of the schema. The layout follows Confluent Schema Registry's
// normalized Avro form (AvroSchemaUtils.toNormalizedString): name, type,
// then fields, symbols or size, the logical type, doc, aliases, default and
// custom properties.
func Normal(src []byte) (string, error) {
	sch, err := avro.Parse(string(src))
	if err != nil {
		return "", err
	}
	w := normalWriter{defined: map[string]bool{}}
	w.node(sch.Root(), "")
	if w.err != nil {
		return "", w.err
	}
	return w.buf.String(), nil
}

type normalWriter struct {
	buf     bytes.Buffer
	defined map[string]bool // full names of the named types written so far
	err     error
}

func isNamed(t string) bool { return t == "record" || t == "error" || t == "enum" || t == "fixed" }

func isPrimitive(t string) bool {
	switch t {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
		return true
	}
	return false
}

// fullName is the full name of a named type defined in scope ns.
func fullName(n *avro.SchemaNode) string {
	if strings.Contains(n.Name, ".") || n.Namespace == "" {
		return n.Name
	}
	return n.Namespace + "." + n.Name
}

// refName resolves a reference to a named type written in scope ns, as
// Avro does: a dotted name is full; a simple one is looked up in ns first.
func (w *normalWriter) refName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	if w.defined[ns+"."+name] {
		return ns + "." + name
	}
	return name
}

func (w *normalWriter) node(n *avro.SchemaNode, ns string) {
	switch {
	case n.Type == "union":
		w.buf.WriteByte('[')
		for i := range n.Branches {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.node(&n.Branches[i], ns)
		}
		w.buf.WriteByte(']')
	case isNamed(n.Type):
		w.named(n)
	case n.Type == "array" || n.Type == "map":
		w.buf.WriteString(`{"type":`)
		w.str(n.Type)
		if n.Type == "array" {
			w.buf.WriteString(`,"items":`)
			w.child(n.Items, ns)
		} else {
			w.buf.WriteString(`,"values":`)
			w.child(n.Values, ns)
		}
		w.logical(n)
		w.props(n.Props)
		w.buf.WriteByte('}')
	case isPrimitive(n.Type):
		if n.LogicalType == "" && len(n.Props) == 0 {
			w.str(n.Type)
			return
		}
		w.buf.WriteString(`{"type":`)
		w.str(n.Type)
		w.logical(n)
		w.props(n.Props)
		w.buf.WriteByte('}')
	default: // a reference to a named type
		name := w.refName(n.Type, ns)
		if len(n.Props) == 0 && n.LogicalType == "" {
			w.str(name)
			return
		}
		w.buf.WriteString(`{"type":`)
		w.str(name)
		w.logical(n)
		w.props(n.Props)
		w.buf.WriteByte('}')
	}
}

func (w *normalWriter) child(n *avro.SchemaNode, ns string) {
	if n == nil {
		w.fail(fmt.Errorf("avro normal form: a container without its element type"))
		w.buf.WriteString("null")
		return
	}
	w.node(n, ns)
}

func (w *normalWriter) named(n *avro.SchemaNode) {
	full := fullName(n)
	if w.defined[full] {
		w.str(full) // a repeated definition: Avro writes the name
		return
	}
	w.defined[full] = true
	ns := ""
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns = full[:i]
	}
	w.buf.WriteString(`{"name":`)
	w.str(full)
	w.buf.WriteString(`,"type":`)
	w.str(n.Type)
	switch n.Type {
	case "enum":
		w.buf.WriteString(`,"symbols":`)
		w.strings(n.Symbols)
	case "fixed":
		w.buf.WriteString(`,"size":`)
		w.buf.WriteString(strconv.Itoa(n.Size))
	default:
		w.buf.WriteString(`,"fields":[`)
		for i := range n.Fields {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.field(&n.Fields[i], ns)
		}
		w.buf.WriteByte(']')
	}
	w.logical(n)
	if n.Doc != "" {
		w.buf.WriteString(`,"doc":`)
		w.str(n.Doc)
	}
	if len(n.Aliases) > 0 {
		aliases := make([]string, len(n.Aliases))
		for i, a := range n.Aliases {
			aliases[i] = a
			if !strings.Contains(a, ".") && ns != "" {
				aliases[i] = ns + "." + a
			}
		}
		w.buf.WriteString(`,"aliases":`)
		w.strings(sortedUnique(aliases))
	}
	if n.Type == "enum" && n.HasEnumDefault {
		w.buf.WriteString(`,"default":`)
		w.str(n.EnumDefault)
	}
	w.props(n.Props)
	w.buf.WriteByte('}')
}

func (w *normalWriter) field(f *avro.SchemaField, ns string) {
	w.buf.WriteString(`{"name":`)
	w.str(f.Name)
	w.buf.WriteString(`,"type":`)
	w.node(&f.Type, ns)
	if f.Order != "" && f.Order != "ascending" {
		w.buf.WriteString(`,"order":`)
		w.str(f.Order)
	}
	if f.Doc != "" {
		w.buf.WriteString(`,"doc":`)
		w.str(f.Doc)
	}
	if len(f.Aliases) > 0 {
		w.buf.WriteString(`,"aliases":`)
		w.strings(sortedUnique(f.Aliases))
	}
	if f.HasDefault {
		w.buf.WriteString(`,"default":`)
		w.value(f.Default)
	}
	props := f.Props
	if f.Type.LogicalType != "" {
		// A field-level logicalType (and its precision and scale) is
		// lifted onto the field's type, which writes it.
		props = without(props, "logicalType", "precision", "scale")
	}
	w.props(props)
	w.buf.WriteByte('}')
}

// logical writes n's logical type, with a decimal's precision and scale
// (a scale of 0, the default, left out).
func (w *normalWriter) logical(n *avro.SchemaNode) {
	if n.LogicalType == "" {
		return
	}
	w.buf.WriteString(`,"logicalType":`)
	w.str(n.LogicalType)
	if n.LogicalType == "decimal" && (n.Type == "bytes" || n.Type == "fixed") {
		w.buf.WriteString(`,"precision":`)
		w.buf.WriteString(strconv.Itoa(n.Precision))
		if n.Scale != 0 {
			w.buf.WriteString(`,"scale":`)
			w.buf.WriteString(strconv.Itoa(n.Scale))
		}
	}
}

func (w *normalWriter) props(props map[string]any) {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.buf.WriteByte(',')
		w.str(k)
		w.buf.WriteByte(':')
		w.value(props[k])
	}
}

func without(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

// value writes a default or property value as JSON: maps by sorted key,
// bytes as Avro writes them (one code point per byte), NaN and the
// infinities as the strings Avro's Java library writes.
func (w *normalWriter) value(v any) {
	switch x := v.(type) {
	case []byte:
		runes := make([]rune, len(x))
		for i, c := range x {
			runes[i] = rune(c)
		}
		w.str(string(runes))
	case float64:
		w.float(x, 64)
	case float32:
		w.float(float64(x), 32)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.str(k)
			w.buf.WriteByte(':')
			w.value(x[k])
		}
		w.buf.WriteByte('}')
	case []any:
		w.buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.value(e)
		}
		w.buf.WriteByte(']')
	default:
		b, err := json.Marshal(x)
		if err != nil {
			w.fail(fmt.Errorf("avro normal form: writing value %v: %w", x, err))
			return
		}
		w.buf.Write(b)
	}
}

func (w *normalWriter) float(f float64, bits int) {
	switch {
	case math.IsNaN(f):
		w.str("NaN")
	case math.IsInf(f, 1):
		w.str("Infinity")
	case math.IsInf(f, -1):
		w.str("-Infinity")
	default:
		w.buf.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
	}
}

func (w *normalWriter) str(s string) {
	b, _ := json.Marshal(s) // a string always marshals
	w.buf.Write(b)
}

func (w *normalWriter) strings(ss []string) {
	w.buf.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.str(s)
	}
	w.buf.WriteByte(']')
}

func (w *normalWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func sortedUnique(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}
