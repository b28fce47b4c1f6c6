package cli

import (
	"context"
	"fmt"
	"io"
)

// group is a command made of subcommands (quarantine, schema, dlq).
type group struct {
	name string
	// about describes the group in its usage, before the subcommands.
	about string
	subs  []command
}

// run dispatches env.Args to a subcommand; with none, or --help, it prints
// the group's usage (to stdout for --help, exit 0; to stderr otherwise,
// exit 2).
func (g group) run(ctx context.Context, env Env) int {
	sub := ""
	if len(env.Args) > 0 {
		sub = env.Args[0]
	}
	for _, c := range g.subs {
		if c.name == sub {
			env.Args = env.Args[1:]
			return c.run(ctx, env)
		}
	}
	w, code := env.Stderr, exitUsage
	switch sub {
	case "-h", "-help", "--help", "help":
		w, code = env.Stdout, exitOK
	case "":
	default:
		fmt.Fprintf(env.Stderr, "%s: unknown subcommand %q\n\n", g.name, sub)
	}
	g.usage(w)
	return code
}

func (g group) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage:\n  dataquarantine %s <subcommand> [flags]\n\n%s\n\nSubcommands:\n", g.name, g.about)
	for _, c := range g.subs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'dataquarantine %s <subcommand> --help' for its flags and exit\nstatuses. An unknown subcommand exits 2.\n", g.name)
}
