package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// Exit statuses.
const (
	exitOK      = 0
	exitInvalid = 1 // validate: some input was invalid; serve: it failed
	exitUsage   = 2 // bad flags, bad config, unreadable schema
)

// exitsClient are the exit statuses of a command that asks a running
// gateway for one thing, as its --help lists them (flagSet.exitStatus).
const exitsClient = `0  done
1  the gateway could not be reached, or refused the request (why is on stderr)
2  bad flags or arguments`

// version is set at build time with -ldflags "-X .../internal/cli.version=v1.2.3".
var version = ""

// Version returns the build's version: the ldflags value, else the module
// version, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Env is what a command may touch of the outside world; tests replace it.
type Env struct {
	Args    []string // without the program name
	Environ []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, env Env) int
}

var commands = []command{
	{"serve", "run the gateway (embedded Kafka, SQLite and files when nothing else is configured)", runServe},
	{"validate", "validate records (JSON lines, Avro, Protobuf) against a schema and rules offline, with the gateway's engine", runValidate},
	{"migrate", "apply the metadata store's schema migrations and exit", runMigrate},
	{"quarantine", "list, show, reprocess or discard quarantined records of a running gateway", runQuarantine},
	{"dlq", "import dead-letter topics of Kafka Connect, Confluent's DlqAction or another gateway into the quarantine", runDLQ},
	{"circuit", "show the circuit breakers of a running gateway, or resume a paused input topic", runCircuit},
	{"bench", "benchmark the serve wiring on this machine against a bare copy: throughput, CPU, latency, memory, correctness", runBench},
	{"broker", "run a standalone Kafka-protocol broker (for trying the gateway and for the benchmark)", runBroker},
	{"schema", "register, list, get, check, delete and roll out schema versions of a running gateway; 'schema diff' checks a change offline", runSchema},
	{"version", "print the version", runVersion},
}

// Main runs the command line and returns the process exit status.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, Env{Args: os.Args[1:], Environ: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
}

// Run dispatches env.Args to a command.
func Run(ctx context.Context, env Env) int {
	if len(env.Args) == 0 {
		usage(env.Stderr)
		return exitUsage
	}
	name := env.Args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(env.Stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			env.Args = env.Args[1:]
			return c.run(ctx, env)
		}
	}
	fmt.Fprintf(env.Stderr, "dataquarantine: unknown command %q\n\n", name)
	usage(env.Stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `dataquarantine %s: a streaming data-quality gateway for Kafka.

It consumes raw topics, validates every record against its schema, forwards
clean records to a clean topic and quarantines bad ones (DLQ topic with the
reasons in headers, payload and metadata stored, browsable and reprocessable in the web UI and the API).

Usage:
  dataquarantine <command> [flags]

Commands:
`, Version())
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'dataquarantine <command> --help' for a command's flags and exit statuses
(0 success, 1 failure or invalid input, 2 bad usage; each command says
exactly). An unknown command exits 2.
Docs: README.md and docs/ (configuration reference: docs/configuration.md).
`)
}

// flagSet is a command's flags plus its usage text. Parse errors go to
// env.Stderr with the usage; --help prints the usage to env.Stdout only.
type flagSet struct {
	*flag.FlagSet
	env   Env
	usage func(w io.Writer)
	// exits lists the command's exit statuses, one "N  meaning" a line,
	// for its usage. Every command sets it (TestHelpOnEveryCommand).
	exits string
	// positional are the non-flag arguments: flags may come before, between
	// or after them (validate IN.jsonl --schema S works), and everything
	// after "--" is positional.
	positional []string
}

// Args returns the positional arguments.
func (f *flagSet) Args() []string { return f.positional }

// NArg returns the number of positional arguments.
func (f *flagSet) NArg() int { return len(f.positional) }

// Arg returns positional argument i, or "".
func (f *flagSet) Arg(i int) string {
	if i < 0 || i >= len(f.positional) {
		return ""
	}
	return f.positional[i]
}

func newFlagSet(env Env, name, synopsis, description string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {} // printed by parse, to the right stream
	f := &flagSet{FlagSet: fs, env: env}
	f.usage = func(w io.Writer) {
		fmt.Fprintf(w, "Usage:\n  dataquarantine %s %s\n\n%s\n\nFlags:\n", name, synopsis, strings.TrimSpace(description))
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(env.Stderr)
		if f.exits != "" {
			fmt.Fprintf(w, "\nExit status:\n  %s\n", strings.ReplaceAll(f.exits, "\n", "\n  "))
		}
	}
	return f
}

// exitStatus sets the exit statuses the usage lists: one "N  meaning" a
// line, such as exitsClient.
func (f *flagSet) exitStatus(exits string) { f.exits = exits }

// parse parses the command's arguments. It returns the exit status to stop
// with, or -1 to go on.
func (f *flagSet) parse() int {
	args := f.env.Args
	for {
		err := f.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			f.usage(f.env.Stdout)
			return exitOK
		case err != nil:
			fmt.Fprintln(f.env.Stderr)
			f.usage(f.env.Stderr)
			return exitUsage
		}
		rest := f.FlagSet.Args()
		if len(rest) == 0 {
			return -1
		}
		// Parse stopped at a positional argument, or consumed a "--".
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			f.positional = append(f.positional, rest...)
			return -1
		}
		f.positional = append(f.positional, rest[0])
		args = rest[1:]
	}
}

func runVersion(_ context.Context, env Env) int {
	fs := newFlagSet(env, "version", "", "Print the version of this build.")
	fs.exitStatus("0  printed\n2  bad flags or arguments")
	if code := fs.parse(); code >= 0 {
		return code
	}
	fmt.Fprintln(env.Stdout, "dataquarantine", Version())
	return exitOK
}
