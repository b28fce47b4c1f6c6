package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxDecodeErrors stops a decode that has already found this many problems: a
// file that is wrong everywhere is better fixed from its first errors, and a
// hostile one must not make the error list unbounded.
const maxDecodeErrors = 20

// maxDecodeVisits bounds the values a decode visits. Aliases can make a
// small document expand exponentially (merge keys nested in merge keys); a
// real configuration visits a few hundred values.
const maxDecodeVisits = 100_000

// errTooMany ends the list of a decode that hit maxDecodeErrors.
var errTooMany = errors.New("too many errors; fix these first")

// decoder decodes a YAML node tree over a value that already holds defaults.
// It replaces yaml.v3's reflection decoder (with KnownFields) so that every
// problem names the full key path and line, a key with a null value keeps its
// default, list elements start from their own defaults, duplicate keys are
// refused, and scalars parse exactly as their environment variables do.
type decoder struct {
	// where is the prefix of a problem found at node n, key path path.
	where func(n *yaml.Node, path string) string
	errs  []error
	// active holds the mappings being decoded, outermost first: an alias
	// to one of them (kafka: &a {embedded: *a}) would recurse forever.
	active []*yaml.Node
	visits int
}

// elementDefaulter is a list element type whose default is not its zero
// value.
type elementDefaulter interface{ applyDefaults() }

func (d *decoder) full() bool { return len(d.errs) > maxDecodeErrors || d.visits > maxDecodeVisits }

// visit counts one value decoded and reports whether the budget allows it.
func (d *decoder) visit(at *yaml.Node, path string) bool {
	d.visits++
	if d.visits == maxDecodeVisits+1 {
		d.errs = append(d.errs, fmt.Errorf("%s: the document expands to more than %d values (an alias used too often?)",
			d.where(at, path), maxDecodeVisits))
	}
	return d.visits <= maxDecodeVisits
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	if d.full() {
		return
	}
	if len(d.errs) == maxDecodeErrors {
		d.errs = append(d.errs, errTooMany)
		return
	}
	d.errs = append(d.errs, fmt.Errorf("%s: %s", d.where(n, path), fmt.Sprintf(format, args...)))
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe says what a node is, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return quoteValue(n.Value)
	default:
		return "an unsupported YAML node"
	}
}

// decode decodes n over v, the value at key path.
func (d *decoder) decode(at *yaml.Node, v reflect.Value, path string) {
	if d.full() || !d.visit(at, path) {
		return
	}
	n := resolve(at)
	if isNull(n) {
		return // "key:" with no value keeps the default
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Struct:
		d.decodeStruct(at, v, path)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		d.decodeStructList(at, v, path)
	case t.Kind() == reflect.Slice:
		d.decodeStringList(at, v, path)
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(at, path, "want %s, got %s", typeWant(t), describe(n))
			return
		}
		if err := parseScalar(v, n.Value); err != nil {
			d.fail(at, path, "%v", err)
		}
	}
}

func (d *decoder) decodeStruct(at *yaml.Node, v reflect.Value, path string) {
	if d.full() || !d.visit(at, path) {
		return
	}
	n := resolve(at)
	if n.Kind != yaml.MappingNode {
		d.fail(at, path, "want a mapping of keys, got %s", describe(n))
		return
	}
	if slices.Contains(d.active, n) {
		d.fail(at, path, "an alias refers to a mapping that contains it")
		return
	}
	d.active = append(d.active, n)
	defer func() { d.active = d.active[:len(d.active)-1] }()
	// Merge keys (<<: *base) first, so that the mapping's own keys win.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			d.decodeMerge(n.Content[i+1], v, path)
		}
	}
	t := v.Type()
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content) && !d.full(); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "a key must be a plain string, got %s", describe(k))
			continue
		}
		p := joinPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.fail(k, p, "duplicate key (first set on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		field, ok := fieldByKey(t, k.Value)
		if !ok {
			msg := "unknown key"
			if s := suggest(k.Value, keysOf(t)); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", joinPath(path, s))
			}
			d.fail(k, p, "%s", msg)
			continue
		}
		d.decode(val, v.Field(field), p)
	}
}

// decodeMerge applies the value of a merge key: a mapping, or a list of
// mappings of which the earlier ones win.
func (d *decoder) decodeMerge(at *yaml.Node, v reflect.Value, path string) {
	n := resolve(at)
	switch n.Kind {
	case yaml.MappingNode:
		d.decodeStruct(n, v, path)
	case yaml.SequenceNode:
		for i := len(n.Content) - 1; i >= 0; i-- {
			d.decodeStruct(n.Content[i], v, path)
		}
	default:
		d.fail(at, path, "the value of << must be a mapping or a list of mappings, got %s", describe(n))
	}
}

func (d *decoder) decodeStructList(at *yaml.Node, v reflect.Value, path string) {
	n := resolve(at)
	if n.Kind != yaml.SequenceNode {
		d.fail(at, path, "want a list of mappings, got %s", describe(n))
		return
	}
	list := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		elem := list.Index(i)
		if def, ok := elem.Addr().Interface().(elementDefaulter); ok {
			def.applyDefaults()
		}
		p := fmt.Sprintf("%s[%d]", path, i)
		if isNull(resolve(item)) {
			d.fail(item, p, "empty list item")
			continue
		}
		d.decodeStruct(item, elem, p)
	}
	v.Set(list)
}

func (d *decoder) decodeStringList(at *yaml.Node, v reflect.Value, path string) {
	n := resolve(at)
	switch n.Kind {
	case yaml.ScalarNode:
		// A single string is a comma-separated list, as in the environment.
		v.Set(reflect.ValueOf(splitList(n.Value)))
	case yaml.SequenceNode:
		list := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			r := resolve(item)
			if r.Kind != yaml.ScalarNode || isNull(r) {
				d.fail(item, fmt.Sprintf("%s[%d]", path, i), "want a string, got %s", describe(r))
				continue
			}
			list = append(list, r.Value)
		}
		v.Set(reflect.ValueOf(list))
	default:
		d.fail(at, path, "want a list of strings, got %s", describe(n))
	}
}

// fieldByKey finds the field of struct type t whose YAML key is key.
func fieldByKey(t reflect.Type, key string) (int, bool) {
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" && name == key {
			return i, true
		}
	}
	return 0, false
}

// keysOf lists the YAML keys of struct type t.
func keysOf(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}

// typeWant names what a value of type t must look like.
func typeWant(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 250ms or 1m30s"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "a list of strings"
		}
		return "a list of mappings"
	default:
		return t.String()
	}
}

// parseScalar sets v, a scalar or a list of strings, from its text: the
// value of an environment variable or of a YAML scalar.
func parseScalar(v reflect.Value, s string) error {
	t := v.Type()
	if t == durationType {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			if _, numErr := strconv.ParseFloat(strings.TrimSpace(s), 64); numErr == nil {
				return fmt.Errorf("want %s, got %s (add a unit)", typeWant(t), quoteValue(s))
			}
			return fmt.Errorf("want %s, got %s", typeWant(t), quoteValue(s))
		}
		v.SetInt(int64(d))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("want %s, got %s", typeWant(t), quoteValue(s))
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, t.Bits())
		if errors.Is(err, strconv.ErrRange) {
			v := strings.TrimSpace(s)
			if len(v) > maxQuoted {
				v = quoteValue(v)
			}
			return fmt.Errorf("%s is out of range for %s", v, t)
		}
		if err != nil {
			return fmt.Errorf("want %s, got %s", typeWant(t), quoteValue(s))
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), t.Bits())
		if err != nil {
			return fmt.Errorf("want %s, got %s", typeWant(t), quoteValue(s))
		}
		v.SetFloat(f)
	case reflect.Slice:
		if t.Elem().Kind() != reflect.String {
			return fmt.Errorf("want %s", typeWant(t))
		}
		v.Set(reflect.ValueOf(splitList(s)))
	default:
		return fmt.Errorf("unsupported configuration type %s", t)
	}
	return nil
}

// maxQuoted is the most of a bad value an error repeats.
const maxQuoted = 64

// quoteValue quotes a value for an error message, cut short when long: the
// message must name the mistake, not reproduce a pasted document.
func quoteValue(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items: "a:9092, b:9092," is [a:9092 b:9092].
func splitList(s string) []string {
	list := []string{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}
