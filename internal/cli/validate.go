package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

func runValidate(_ context.Context, env Env) int {
	defaults := config.Default()
	fs := newFlagSet(env, "validate", "--schema FILE [flags] [INPUT.jsonl | -]", `
Validate JSON records offline with the same engine the gateway runs: one
record per line (blank lines are skipped), read from INPUT or standard input.
Prints one result per line, and exits 0 when every record is valid, 1 when
any is invalid, 2 on a usage or schema error. Use it in a producer's CI.`)
	var (
		schemaPath = fs.String("schema", "", "JSON Schema `file` (any draft; formats are asserted) (required)")
		maxBytes   = fs.Int("max-bytes", defaults.Limits.MaxBytes, "largest record in `bytes`; larger is PAYLOAD_TOO_LARGE")
		maxDepth   = fs.Int("max-depth", defaults.Limits.MaxDepth, "deepest nesting of objects and arrays")
		dupKeys    = fs.Bool("allow-duplicate-keys", defaults.Limits.AllowDuplicateKeys, "accept objects with a repeated key (default: PARSE_ERROR)")
		asJSON     = fs.Bool("json", false, "print one JSON object per line: {\"line\", \"valid\", \"errors\"}")
		quiet      = fs.Bool("quiet", false, "print only invalid records")
	)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if *schemaPath == "" {
		fmt.Fprintln(env.Stderr, "validate: --schema is required")
		fs.usage(env.Stderr)
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(env.Stderr, "validate: want at most one INPUT, got %d\n", fs.NArg())
		return exitUsage
	}
	src, err := os.ReadFile(*schemaPath)
	if err != nil {
		fmt.Fprintf(env.Stderr, "validate: reading schema: %v\n", err)
		return exitUsage
	}
	v, err := schema.CompileJSON("offline", 1, src, schema.JSONOptions{
		Limits: jsonschema.Limits{MaxDepth: *maxDepth, AllowDuplicateKeys: *dupKeys},
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "validate: %s: %v\n", *schemaPath, err)
		return exitUsage
	}
	engine, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v}, MaxBytes: *maxBytes})
	if err != nil {
		fmt.Fprintf(env.Stderr, "validate: %v\n", err)
		return exitUsage
	}
	in := env.Stdin
	name := "standard input"
	if path := fs.Arg(0); path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(env.Stderr, "validate: %v\n", err)
			return exitUsage
		}
		defer f.Close() //nolint:errcheck // read-only: a close error loses nothing
		in, name = f, path
	}
	out := bufio.NewWriter(env.Stdout)
	var total, invalid int
	var verdict record.Verdict
	err = eachLine(in, *maxBytes, func(n int, line []byte) {
		total++
		rec := record.Record{Value: line}
		_ = engine.Validate(&rec, &verdict) // a Fixed resolver never fails
		if !verdict.Valid() {
			invalid++
		}
		printResult(out, n, &verdict, *asJSON, *quiet)
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

func printResult(w io.Writer, line int, v *record.Verdict, asJSON, quiet bool) {
	if quiet && v.Valid() {
		return
	}
	if asJSON {
		errs := v.Violations
		if errs == nil {
			errs = []record.Violation{}
		}
		b, _ := json.Marshal(struct {
			Line   int                `json:"line"`
			Valid  bool               `json:"valid"`
			Errors []record.Violation `json:"errors"`
		}{line, v.Valid(), errs})
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	if v.Valid() {
		fmt.Fprintf(w, "line %d: valid\n", line)
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
	fmt.Fprintf(w, "line %d: invalid: %s\n", line, strings.Join(parts, "; "))
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
