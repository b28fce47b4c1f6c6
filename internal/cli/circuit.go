package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

func runCircuit(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "circuit", "status | resume TOPIC [--server URL] [--token TOKEN]", `
Show the circuit breakers of a running gateway, or resume an input topic the
breaker paused for too many invalid records. The records that arrived while
it was paused wait in Kafka and are processed once it resumes.`)
	gw := gatewayFlags(fs)
	fs.exitStatus(exitsClient)
	if code := fs.parse(); code >= 0 {
		return code
	}
	args := fs.Args()
	var method, path string
	switch {
	case len(args) == 1 && args[0] == "status":
		method, path = http.MethodGet, "/api/v1/circuit"
	case len(args) == 2 && args[0] == "resume":
		method, path = http.MethodPost, "/api/v1/circuit/"+url.PathEscape(args[1])+"/resume"
	default:
		fmt.Fprintln(env.Stderr, "circuit: want 'status' or 'resume TOPIC'")
		fs.usage(env.Stderr)
		return exitUsage
	}
	var list struct {
		Topics []struct {
			Topic         string  `json:"topic"`
			State         string  `json:"state"`
			OpenedAt      *string `json:"opened_at"`
			WindowValid   int64   `json:"window_valid"`
			WindowInvalid int64   `json:"window_invalid"`
		} `json:"topics"`
	}
	var out any = &list
	if args[0] == "resume" {
		out = nil
	}
	if err := gw.call(ctx, method, path, nil, out); err != nil {
		fmt.Fprintf(env.Stderr, "circuit: %v\n", err)
		return exitInvalid
	}
	if args[0] == "resume" {
		fmt.Fprintf(env.Stdout, "%s: resumed\n", args[1])
		return exitOK
	}
	for _, t := range list.Topics {
		line := fmt.Sprintf("%-30s %-9s window: %d valid, %d invalid", t.Topic, t.State, t.WindowValid, t.WindowInvalid)
		if t.OpenedAt != nil {
			line += ", last tripped " + *t.OpenedAt
		}
		fmt.Fprintln(env.Stdout, line)
	}
	return exitOK
}
