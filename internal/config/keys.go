package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// envPrefix starts the name of every configuration environment variable.
const envPrefix = "DQ_"

// Key describes one configuration key, for documentation and --help.
type Key struct {
	// Path is the key's path in the YAML file, e.g. "kafka.group_id".
	Path string
	// Env is the environment variable that overrides it, e.g.
	// "DQ_KAFKA_GROUP_ID".
	Env string
	// Type is the Go type of the field, e.g. "int32", "time.Duration",
	// "[]config.Input".
	Type string
	// Default is the built-in default written as the environment variable's
	// value would be ("" for an empty string or list). A default too long to
	// show this way (schemas) is a description in parentheses instead.
	Default string
}

// leaf is a key whose value is set as a whole: a scalar, a list of strings or
// a list of structs. Structs are not leaves: their fields are.
type leaf struct {
	path  string
	env   string
	index []int // reflect field index from Config
	typ   reflect.Type
}

var durationType = reflect.TypeFor[time.Duration]()

// leaves is every leaf key of Config, in field order, derived from the yaml
// tags so that no list of keys is maintained by hand.
var leaves = sync.OnceValue(func() []leaf {
	var out []leaf
	var walk func(t reflect.Type, path string, index []int)
	walk = func(t reflect.Type, path string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			p := joinPath(path, name)
			idx := append(append([]int(nil), index...), i)
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, p, idx)
				continue
			}
			out = append(out, leaf{path: p, env: envName(p), index: idx, typ: f.Type})
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	seen := make(map[string]string, len(out))
	for _, l := range out {
		if other, dup := seen[l.env]; dup {
			// Two paths such as a.b_c and a_b.c would share one variable.
			panic(fmt.Sprintf("config: keys %s and %s both map to %s", other, l.path, l.env))
		}
		seen[l.env] = l.path
	}
	return out
})

// yamlName is the key of a struct field in YAML, "" for fields that are not
// configuration (unexported or untagged).
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// envName is the environment variable of a key path:
// storage.metadata.url is DQ_STORAGE_METADATA_URL.
func envName(path string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// keyDefaultText replaces the rendered default of keys whose default has no
// short form.
var keyDefaultText = map[string]string{
	"schemas": "(the built-in user_event schema, version 1)",
}

// Keys lists every leaf key with its environment variable, Go type and
// default, in the order of the Config struct.
func Keys() []Key {
	def := reflect.ValueOf(Default())
	ls := leaves()
	keys := make([]Key, 0, len(ls))
	for _, l := range ls {
		k := Key{Path: l.path, Env: l.env, Type: l.typ.String()}
		if text, ok := keyDefaultText[l.path]; ok {
			k.Default = text
		} else {
			k.Default = formatValue(def.FieldByIndex(l.index))
		}
		keys = append(keys, k)
	}
	return keys
}

// formatValue renders v in the syntax its environment variable accepts.
func formatValue(v reflect.Value) string {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits())
	case reflect.Slice:
		if v.Len() == 0 {
			return "" // an empty list, as its variable sets it
		}
		if v.Type().Elem().Kind() == reflect.String {
			return strings.Join(v.Interface().([]string), ",")
		}
		return flowYAML(v.Interface())
	default:
		return fmt.Sprint(v.Interface())
	}
}

// flowYAML renders v as a one-line YAML flow value, the syntax of list
// environment variables: [{topic: raw-events, subject: user_event}].
func flowYAML(v any) string {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	var flow func(*yaml.Node)
	flow = func(n *yaml.Node) {
		if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
			n.Style = yaml.FlowStyle
		}
		for _, c := range n.Content {
			flow(c)
		}
	}
	flow(&n)
	out, err := yaml.Marshal(&n)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(out))
}

// suggest returns the candidate closest to name when it is close enough to be
// a likely typo, else "".
func suggest(name string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		if d := editDistance(name, c); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// One edit in three characters is a typo; more is a different word.
	if bestDist < 0 || bestDist > 3 || bestDist*3 > len(name) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes (keys
// are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
