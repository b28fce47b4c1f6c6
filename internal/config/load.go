package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load returns defaults, overlaid by the YAML file at path (skipped when path
// is ""), overlaid by DQ_* variables from environ (os.Environ() form). It does
// not Validate: the caller applies flags first.
//
// Every problem found in the file and the environment is returned, joined:
// unknown keys and variables, values of the wrong type. A key present in the
// file with no value (key: or key: ~) keeps its default; a list set in the
// file or the environment replaces the default list entirely.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	var errs []error
	if path != "" {
		fileErrs, err := c.loadFile(path)
		if err != nil {
			return Config{}, err
		}
		errs = append(errs, fileErrs...)
	}
	errs = append(errs, c.loadEnv(environ)...)
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// loadFile decodes the YAML file at path over c. It returns err when the file
// cannot be read or parsed at all, errs for the problems found in it.
func (c *Config) loadFile(path string) (errs []error, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	c.dir = filepath.Dir(path)

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file (or only comments): all defaults
		}
		return nil, fmt.Errorf("parsing config file %s: %w", path, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("parsing config file %s: %w", path, err)
	default:
		return nil, fmt.Errorf("%s:%d: a second YAML document; the configuration must be one document", path, extra.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("parsing config file %s: not a YAML document", path)
	}

	d := decoder{where: func(n *yaml.Node, key string) string {
		if key == "" {
			key = "top level"
		}
		return fmt.Sprintf("%s:%d: %s", path, n.Line, key)
	}}
	d.decode(doc.Content[0], reflect.ValueOf(c).Elem(), "")
	return d.errs, nil
}

// loadEnv applies the DQ_* variables of environ over c, in name order so that
// problems are reported in a stable order.
func (c *Config) loadEnv(environ []string) []error {
	byEnv := make(map[string]leaf)
	var names []string
	for _, l := range leaves() {
		byEnv[l.env] = l
		names = append(names, l.env)
	}
	vars := make(map[string]string)
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, envPrefix) && !clientVariables[name] {
			vars[name] = value
		}
	}
	var errs []error
	root := reflect.ValueOf(c).Elem()
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		value := vars[name]
		l, ok := byEnv[name]
		if !ok {
			errs = append(errs, unknownVariable(name, names))
			continue
		}
		v := root.FieldByIndex(l.index)
		if l.typ.Kind() == reflect.Slice && l.typ.Elem().Kind() == reflect.Struct {
			errs = append(errs, decodeEnvList(name, l.path, value, v)...)
			continue
		}
		if err := parseScalar(v, value); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", name, l.path, err))
		}
	}
	return errs
}

// clientVariables are DQ_* variables of the client commands (the API token
// and the gateway's URL of quarantine, schema and circuit), not
// configuration keys: loading the configuration ignores them, so one shell
// can run the gateway and its client.
var clientVariables = map[string]bool{"DQ_TOKEN": true, "DQ_SERVER": true}

// unknownVariable refuses a DQ_* variable that is no key's, suggesting the
// variable probably meant.
func unknownVariable(name string, known []string) error {
	hint := ""
	// DQ_SCHEMAS_0_FILE: lists are set as a whole, never element by element.
	for _, k := range known {
		if strings.HasPrefix(name, k+"_") {
			hint = fmt.Sprintf(" (%s is set as a whole list, e.g. %s='[{...}]')", k, k)
		}
	}
	if hint == "" {
		if s := suggest(name, known); s != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", s)
		}
	}
	return fmt.Errorf("%s: unknown configuration variable%s", name, hint)
}

// decodeEnvList sets a list of structs from a YAML flow value such as
// [{topic: raw-events, subject: user_event}].
func decodeEnvList(name, path, value string, v reflect.Value) []error {
	if strings.TrimSpace(value) == "" {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
		return []error{fmt.Errorf("%s (%s): want a YAML list such as [{key: value}]: %w", name, path, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return []error{fmt.Errorf("%s (%s): want a YAML list such as [{key: value}]", name, path)}
	}
	d := decoder{where: func(_ *yaml.Node, key string) string {
		return fmt.Sprintf("%s (%s)", name, key)
	}}
	d.decode(doc.Content[0], v, path)
	return d.errs
}
