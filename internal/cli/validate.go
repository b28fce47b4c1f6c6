package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
	"github.com/dataquarantine/dataquarantine/internal/schema/wire"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

func runValidate(_ context.Context, env Env) int {
	fs := newFlagSet(env, "validate", "--schema FILE [flags] [INPUT ...]", `
Validate records offline with the same engine the gateway runs, business
rules included, and print one result per record. Exits 0 when every record is
valid, 1 when any is invalid, 2 on a usage, schema, rules or input error. Use
it in a producer's CI.

--type json (the default) reads JSON lines, one record per line (blank lines
are skipped), from INPUT or standard input. --type avro reads Avro binary,
decoded with the Avro schema given as --schema; --type protobuf reads
Protobuf binary, decoded as a message of the .proto given as --schema (its
first top-level message, or the one --message names), whose buf.validate
constraints are checked. For both, each INPUT file is one record ('-' is
standard input), or, with --length-delimited, a stream of records, each
preceded by its length as an unsigned varint (protobuf's writeDelimitedTo
framing). --wire expects each record to start with the Confluent wire header
(0x00 and a 4-byte schema id, or 0x01 and a 16-byte GUID; for Protobuf then
the message indexes, which pick the message type), as Kafka consumers see
records from Confluent serializers, and strips it; the schema is still
--schema.`)
	var f validateFlags
	f.register(fs, config.Default())
	fs.exitStatus(`0  every record is valid
1  at least one record is invalid (each is reported)
2  bad flags, an unreadable or invalid schema or rules file, or unreadable input`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if f.schemaPath == "" {
		fmt.Fprintln(env.Stderr, "validate: --schema is required")
		fs.usage(env.Stderr)
		return exitUsage
	}
	if problem := f.check(fs.NArg()); problem != "" {
		fmt.Fprintln(env.Stderr, "validate: "+problem)
		return exitUsage
	}
	engine, err := f.engine()
	if err != nil {
		fmt.Fprintf(env.Stderr, "validate: %v\n", err)
		return exitUsage
	}
	if f.typ != "json" {
		return validateBinary(env, engine, fs.Args(), binaryOptions{
			maxBytes: f.maxBytes, delimited: f.delimited, wire: f.wireHeader, protobuf: f.typ == "protobuf", asJSON: f.asJSON, quiet: f.quiet,
		})
	}
	return validateLines(env, engine, fs.Arg(0), &f)
}

// validateFlags are the validate command's flags.
type validateFlags struct {
	schemaPath, rulesPath, typ, message string
	delimited, wireHeader, dupKeys      bool
	asJSON, quiet                       bool
	maxBytes, maxDepth                  int
}

func (f *validateFlags) register(fs *flagSet, defaults config.Config) {
	fs.StringVar(&f.schemaPath, "schema", "", "JSON Schema `file` (any draft; formats are asserted), Avro schema with --type avro, .proto with --type protobuf (required)")
	fs.StringVar(&f.rulesPath, "rules", "", "YAML `file` of business rules, a list of {name, expr, message, field}, bare or under a rules: key (docs/rules.md)")
	fs.StringVar(&f.typ, "type", "json", "record `format`: json (JSON lines), avro (Avro binary) or protobuf (Protobuf binary)")
	fs.StringVar(&f.message, "message", "", "protobuf: the `message` type of records without message indexes, e.g. pkg.Msg (default: the first in the .proto)")
	fs.BoolVar(&f.delimited, "length-delimited", false, "avro, protobuf: each INPUT holds records, each preceded by its length as an unsigned varint")
	fs.BoolVar(&f.wireHeader, "wire", false, "avro, protobuf: each record starts with a Confluent wire header, which is checked and stripped")
	fs.IntVar(&f.maxBytes, "max-bytes", defaults.Limits.MaxBytes, "largest record in `bytes`; larger is PAYLOAD_TOO_LARGE")
	fs.IntVar(&f.maxDepth, "max-depth", defaults.Limits.MaxDepth, "deepest nesting of objects and arrays (protobuf: of messages), 1 to 1000")
	fs.BoolVar(&f.dupKeys, "allow-duplicate-keys", defaults.Limits.AllowDuplicateKeys, "accept objects with a repeated key (default: PARSE_ERROR)")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON object per line: {\"line\" (or \"input\" and \"record\"), \"valid\", \"errors\"}")
	fs.BoolVar(&f.quiet, "quiet", false, "print only invalid records")
}

// check returns what is wrong with the flags and the number of inputs
// together, "" when nothing is.
func (f *validateFlags) check(inputs int) string {
	switch f.typ {
	case "json":
		if inputs > 1 {
			return fmt.Sprintf("want at most one INPUT, got %d", inputs)
		}
		if f.delimited || f.wireHeader {
			return "--length-delimited and --wire apply to --type avro and protobuf only"
		}
	case "avro", "protobuf":
	default:
		return fmt.Sprintf("--type %q: want json, avro or protobuf", f.typ)
	}
	if f.message != "" && f.typ != "protobuf" {
		return "--message applies to --type protobuf only"
	}
	if f.maxDepth < 1 || f.maxDepth > jsonschema.MaxDepthCap {
		return fmt.Sprintf("--max-depth %d: want 1 to %d", f.maxDepth, jsonschema.MaxDepthCap)
	}
	return ""
}

// engine compiles the schema, with the rules, into the engine the gateway
// runs, resolving every record to it.
func (f *validateFlags) engine() (*validate.Engine, error) {
	src, err := os.ReadFile(f.schemaPath)
	if err != nil {
		return nil, fmt.Errorf("reading schema: %w", err)
	}
	lim := jsonschema.Limits{MaxDepth: f.maxDepth, AllowDuplicateKeys: f.dupKeys}
	v, err := formats.Compile(schema.Format(strings.ToUpper(f.typ)), "offline", 1, src, formats.Options{Limits: lim, Message: f.message})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.schemaPath, err)
	}
	if f.rulesPath != "" {
		if v.Rules, err = loadRules(f.rulesPath); err != nil {
			return nil, fmt.Errorf("%s: %w", f.rulesPath, err)
		}
	}
	opts := validate.Options{Resolver: schema.Fixed{Version: v}, MaxBytes: f.maxBytes}
	if f.typ == "protobuf" && f.wireHeader {
		// The engine reads the header itself, for the message indexes.
		opts.IDs = anyID{v}
	}
	return validate.New(opts)
}

// validateLines validates the JSON lines of path ("" or "-": standard
// input), one record a line, and prints each result and the count.
func validateLines(env Env, engine *validate.Engine, path string, f *validateFlags) int {
	in := env.Stdin
	name := "standard input"
	if path != "" && path != "-" {
		file, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(env.Stderr, "validate: %v\n", err)
			return exitUsage
		}
		defer file.Close() //nolint:errcheck // read-only: a close error loses nothing
		in, name = file, path
	}
	out := bufio.NewWriter(env.Stdout)
	var total, invalid int
	var verdict record.Verdict
	err := eachLine(in, f.maxBytes, func(n int, line []byte) {
		total++
		rec := record.Record{Value: line}
		_ = engine.Validate(&rec, &verdict) // a Fixed resolver never fails
		if !verdict.Valid() {
			invalid++
		}
		printResult(out, position{Line: n}, &verdict, f.asJSON, f.quiet)
	})
	if flushErr := out.Flush(); flushErr != nil {
		fmt.Fprintf(env.Stderr, "validate: writing results: %v\n", flushErr)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "validate: reading %s: %v\n", name, err)
		return exitUsage
	}
	fmt.Fprintf(env.Stderr, "%d records: %d valid, %d invalid\n", total, total-invalid, invalid)
	if invalid > 0 {
		return exitInvalid
	}
	return exitOK
}

// position names a record in the output: its line in JSON lines, or its
// input (and number in it, when length-delimited) for binary records.
type position struct {
	Line   int    `json:"line,omitempty"`
	Input  string `json:"input,omitempty"`
	Record int    `json:"record,omitempty"`
}

func (p position) String() string {
	switch {
	case p.Input == "":
		return fmt.Sprintf("line %d", p.Line)
	case p.Record > 0:
		return fmt.Sprintf("%s record %d", p.Input, p.Record)
	}
	return p.Input
}

func printResult(w io.Writer, at position, v *record.Verdict, asJSON, quiet bool) {
	if quiet && v.Valid() {
		return
	}
	if asJSON {
		errs := v.Violations
		if errs == nil {
			errs = []record.Violation{}
		}
		b, _ := json.Marshal(struct {
			position
			Valid  bool               `json:"valid"`
			Errors []record.Violation `json:"errors"`
		}{at, v.Valid(), errs})
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	if v.Valid() {
		fmt.Fprintf(w, "%s: valid\n", at)
		return
	}
	parts := make([]string, len(v.Violations))
	for i, e := range v.Violations {
		field := e.Field
		if field == "" {
			field = "(record)"
		}
		parts[i] = fmt.Sprintf("%s at %s: %s", e.Type, field, e.Message)
	}
	fmt.Fprintf(w, "%s: invalid: %s\n", at, strings.Join(parts, "; "))
}

// eachLine calls fn for every non-blank line of r, numbered from 1. A line
// longer than maxBytes is passed on truncated to maxBytes+1 bytes (enough
// for the engine to call it PAYLOAD_TOO_LARGE) without buffering the rest.
func eachLine(r io.Reader, maxBytes int, fn func(n int, line []byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for n := 1; ; n++ {
		buf = buf[:0]
		for {
			frag, isPrefix, err := br.ReadLine()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if room := maxBytes + 1 - len(buf); room > 0 {
				buf = append(buf, frag[:min(len(frag), room)]...)
			}
			if !isPrefix {
				break
			}
		}
		if len(bytes.TrimSpace(buf)) == 0 {
			continue
		}
		fn(n, buf)
	}
}

// loadRules reads a YAML file of business rules (see readRules) and
// compiles it.
func loadRules(path string) (*rules.Set, error) {
	specs, err := readRules(path)
	if err != nil {
		return nil, err
	}
	return rules.Compile(specs, rules.Options{})
}

// readRules reads a YAML file of business rules, a list of {name, expr,
// message, field}, bare or under a rules: key (as in a schemas entry of the
// configuration).
func readRules(path string) ([]rules.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing rules: %w", err)
	}
	var (
		specs   []rules.Spec
		wrapped struct {
			Rules []rules.Spec `yaml:"rules"`
		}
		target any = &specs
	)
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		target = &wrapped
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(target); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parsing rules (want a list of {name, expr, message, field}): %w", err)
	}
	if target == &wrapped {
		specs = wrapped.Rules
	}
	if len(specs) == 0 {
		return nil, errors.New("no rules in the file")
	}
	return specs, nil
}

type binaryOptions struct {
	maxBytes      int
	delimited     bool
	wire          bool
	protobuf      bool
	asJSON, quiet bool
}

// validateBinary validates binary records: each input one record, or a
// stream of length-delimited ones.
func validateBinary(env Env, engine *validate.Engine, inputs []string, o binaryOptions) int {
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	out := bufio.NewWriter(env.Stdout)
	var total, invalid int
	var verdict record.Verdict
	check := func(at position, value []byte) {
		total++
		checkBinary(engine, value, o.wire, o.protobuf, &verdict)
		if !verdict.Valid() {
			invalid++
		}
		printResult(out, at, &verdict, o.asJSON, o.quiet)
	}
	for _, path := range inputs {
		name, err := eachBinary(env, path, o, check)
		if err != nil {
			_ = out.Flush()
			fmt.Fprintf(env.Stderr, "validate: reading %s: %v\n", name, err)
			return exitUsage
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(env.Stderr, "validate: writing results: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(env.Stderr, "%d records: %d valid, %d invalid\n", total, total-invalid, invalid)
	if invalid > 0 {
		return exitInvalid
	}
	return exitOK
}

// eachBinary calls check for the record (or each length-delimited record)
// of the input at path ("-" is standard input), and returns the input's
// name.
func eachBinary(env Env, path string, o binaryOptions, check func(position, []byte)) (string, error) {
	in, name := env.Stdin, "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return path, err
		}
		defer f.Close() //nolint:errcheck // read-only: a close error loses nothing
		in, name = f, path
	}
	if o.delimited {
		return name, eachDelimited(in, o.maxBytes, func(n int, value []byte) {
			check(position{Input: name, Record: n}, value)
		})
	}
	// Read one byte past the limit: enough for PAYLOAD_TOO_LARGE.
	value, err := io.ReadAll(io.LimitReader(in, int64(o.maxBytes)+1))
	if err != nil {
		return name, err
	}
	check(position{Input: name}, value)
	return name, nil
}

// eachDelimited calls fn for every record of r, each preceded by its length
// as an unsigned varint, numbered from 1. A record longer than maxBytes is
// passed on truncated to maxBytes+1 bytes, the rest skipped.
func eachDelimited(r io.Reader, maxBytes int, fn func(n int, value []byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for n := 1; ; n++ {
		size, err := binary.ReadUvarint(br)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("record %d: reading its length: %w", n, err)
		}
		keep := min(size, uint64(maxBytes)+1)
		buf = slices.Grow(buf[:0], int(keep))[:keep]
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("record %d is cut short: its length says %d bytes: %w", n, size, err)
		}
		if size > keep {
			if _, err := io.CopyN(io.Discard, br, int64(size-keep)); err != nil {
				return fmt.Errorf("record %d is cut short: its length says %d bytes: %w", n, size, err)
			}
		}
		fn(n, buf)
	}
}

// checkBinary validates one binary record, first stripping its Confluent
// wire header when stripWire: a missing or malformed header is a
// DECODE_ERROR, as the gateway will report it. A Protobuf record keeps its
// header: the engine (built with anyID) reads it for the message indexes.
func checkBinary(engine *validate.Engine, value []byte, stripWire, protobuf bool, v *record.Verdict) {
	if stripWire {
		_, payload, ok, err := wire.Parse(value, nil, wire.Options{Protobuf: protobuf})
		if err != nil || !ok {
			msg := "no Confluent wire header: the record does not start with 0x00 or 0x01"
			if err != nil {
				msg = err.Error()
			}
			v.Reset()
			v.Violations = append(v.Violations, record.Violation{Type: record.DecodeError, Keyword: "wire", Message: msg})
			return
		}
		if !protobuf {
			value = payload
		}
	}
	_ = engine.Validate(&record.Record{Value: value}, v) // a Fixed resolver never fails
}

// anyID resolves every schema id to the one offline version: --wire checks
// the header's form, not which id it names.
type anyID struct{ v *schema.Version }

func (anyID) Wire(string) bool                                                  { return true }
func (a anyID) ResolveID(context.Context, string, int) (*schema.Version, error) { return a.v, nil }

func (a anyID) ResolveGUID(context.Context, string, string) (*schema.Version, error) {
	return a.v, nil
}
