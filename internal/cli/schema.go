package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat"
)

// schemaCommands are the subcommands of "dataquarantine schema". The ones
// that talk to a running gateway's registry (register, list, get, delete,
// check, state) belong in this table too.
var schemaCommands = []command{
	{"diff", "compare two schema files offline and explain the incompatible changes", runSchemaDiff},
}

// runSchema dispatches "schema <subcommand>".
func runSchema(ctx context.Context, env Env) int {
	return group{name: "schema", about: "Work with schemas and their evolution.", subs: schemaCommands}.run(ctx, env)
}

func runSchemaDiff(_ context.Context, env Env) int {
	fs := newFlagSet(env, "schema diff", "--old FILE --new FILE [--type json|avro|protobuf] [--mode BACKWARD]", `
Check offline whether the new schema may follow the old one under a
compatibility mode, as the registry checks it before accepting a version.
BACKWARD: the new schema reads data written with the old one (consumers
upgrade first); FORWARD: the old schema reads data written with the new one
(producers upgrade first); FULL: both; NONE: no check. JSON Schema follows
Confluent Schema Registry's rules, Avro the specification's schema
resolution, Protobuf a basic wire-level check (field numbers reused with
another type, messages removed, required fields added).

Prints one line per breaking change, "KIND at PATH: explanation", then the
verdict. Exits 0 when compatible, 1 when not, 2 on a usage error or a
schema that cannot be read.`)
	var (
		oldPath = fs.String("old", "", "the registered (older) schema `file` (required)")
		newPath = fs.String("new", "", "the candidate (newer) schema `file` (required)")
		typ     = fs.String("type", "", "schema `type`, json, avro or protobuf (default: avro for .avsc files, protobuf for .proto, else json)")
		modeStr = fs.String("mode", string(compat.Backward), "compatibility `mode`: BACKWARD, FORWARD, FULL or NONE (with one old schema the _TRANSITIVE modes are the same)")
		all     = fs.Bool("all", false, "print the compatible changes too")
	)
	fs.exitStatus(`0  the change is compatible under --mode
1  it is not (each breaking change is printed)
2  bad flags, or an unreadable or invalid schema file`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if *oldPath == "" || *newPath == "" {
		fmt.Fprintln(env.Stderr, "schema diff: --old and --new are required")
		fs.usage(env.Stderr)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "schema diff: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	mode, err := compat.ParseMode(*modeStr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "schema diff: --mode: %v\n", err)
		return exitUsage
	}
	format, err := diffFormat(*typ, *oldPath, *newPath)
	if err != nil {
		fmt.Fprintf(env.Stderr, "schema diff: %v\n", err)
		return exitUsage
	}
	srcs := make([][]byte, 2)
	for i, path := range []string{*oldPath, *newPath} {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(env.Stderr, "schema diff: reading schema: %v\n", err)
			return exitUsage
		}
		if err := compat.Validate(format, src); err != nil {
			fmt.Fprintf(env.Stderr, "schema diff: %s: %v\n", path, err)
			return exitUsage
		}
		srcs[i] = src
	}
	res, err := compat.Check(format, mode, srcs[1], srcs[:1])
	if err != nil { // both parsed above; only a new kind of failure lands here
		fmt.Fprintf(env.Stderr, "schema diff: %v\n", err)
		return exitUsage
	}
	breaking := 0
	for _, c := range res.Changes {
		if c.Breaking {
			breaking++
		} else if !*all {
			continue
		}
		note := ""
		if !c.Breaking {
			note = " (compatible)"
		}
		fmt.Fprintf(env.Stdout, "%s [%s at %s]%s\n", c.Summary, c.Kind, c.SchemaPath, note)
	}
	if res.Compatible {
		fmt.Fprintf(env.Stdout, "compatible (%s): %s may follow %s\n", mode, *newPath, *oldPath)
		return exitOK
	}
	fmt.Fprintf(env.Stdout, "incompatible (%s): %d breaking change%s\n", mode, breaking, plural(breaking))
	return exitInvalid
}

// diffFormat is the schema type: --type when given, else Avro for an .avsc
// file, Protobuf for a .proto file and JSON Schema otherwise (register and
// check use it too).
func diffFormat(typ, oldPath, newPath string) (schema.Format, error) {
	switch strings.ToLower(typ) {
	case "json":
		return schema.FormatJSON, nil
	case "avro":
		return schema.FormatAvro, nil
	case "protobuf":
		return schema.FormatProtobuf, nil
	case "":
		for _, p := range []string{newPath, oldPath} {
			switch {
			case strings.EqualFold(filepath.Ext(p), ".avsc"):
				return schema.FormatAvro, nil
			case strings.EqualFold(filepath.Ext(p), ".proto"):
				return schema.FormatProtobuf, nil
			}
		}
		return schema.FormatJSON, nil
	}
	return "", fmt.Errorf("--type: unknown schema type %q (want json, avro or protobuf)", typ)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
