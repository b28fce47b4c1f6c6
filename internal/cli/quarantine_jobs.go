package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// jobItem is a reprocess job as the API lists it.
type jobItem struct {
	Job        string  `json:"job"`
	State      string  `json:"state"`
	Matched    int64   `json:"matched"`
	Passed     int64   `json:"passed"`
	Failed     int64   `json:"failed"`
	Skipped    int64   `json:"skipped"`
	Target     string  `json:"target"`
	Reason     string  `json:"reason"`
	Actor      string  `json:"actor"`
	CreatedAt  *string `json:"created_at"`
	FinishedAt *string `json:"finished_at"`
	Duration   float64 `json:"duration_seconds"`
	Error      *string `json:"error"`
}

func runQuarantineJobs(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "quarantine jobs", "[--state running|done|failed] [--limit N] [--cursor C] [--json] [--server URL] [--token TOKEN]",
		"List reprocess jobs, newest first, as a table (or the API's JSON with --json): who started\n"+
			"each and why, when it started and ended, how long it took and how far it got. Jobs started\n"+
			"from the UI, the API or this CLI all appear; 'quarantine reprocess --wait' follows one."+
			quarantineHelp)
	fs.exitStatus(exitsClient)
	gw := gatewayFlags(fs)
	state := fs.String("state", "", "only jobs in this `state`: running, done or failed")
	limit := fs.Int("limit", 20, fmt.Sprintf("jobs per page, 1 to %d", quarantine.MaxJobsLimit))
	cursor := fs.String("cursor", "", "the `cursor` printed after the previous page")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "quarantine jobs takes no arguments, only flags")
	}
	switch *state {
	case "", "running", "done", "failed":
	default:
		return usageError(fs, fmt.Sprintf("--state must be running, done or failed, got %q", *state))
	}
	if *limit < 1 || *limit > quarantine.MaxJobsLimit {
		return usageError(fs, fmt.Sprintf("--limit must be from 1 to %d, got %d", quarantine.MaxJobsLimit, *limit))
	}
	params := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *state != "" {
		params.Set("state", *state)
	}
	if *cursor != "" {
		params.Set("cursor", *cursor)
	}
	var raw json.RawMessage
	if err := gw.call(ctx, http.MethodGet, "/api/v1/reprocess?"+params.Encode(), nil, &raw); err != nil {
		fmt.Fprintf(env.Stderr, "quarantine jobs: %v\n", err)
		return exitInvalid
	}
	if *asJSON {
		return printJSON(env, raw)
	}
	var page struct {
		Jobs       []jobItem `json:"jobs"`
		NextCursor *string   `json:"next_cursor"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		fmt.Fprintf(env.Stderr, "quarantine jobs: unexpected answer: %v\n", err)
		return exitInvalid
	}
	if len(page.Jobs) == 0 {
		if *state != "" {
			fmt.Fprintf(env.Stdout, "no %s reprocess jobs\n", *state)
		} else {
			fmt.Fprintln(env.Stdout, "no reprocess jobs yet")
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTATE\tSTARTED\tENDED\tDURATION\tPASSED\tFAILED\tMATCHED\tTARGET\tBY\tREASON")
	for _, j := range page.Jobs {
		started, ended := "", "-"
		if j.CreatedAt != nil {
			started = shortTime(*j.CreatedAt)
		}
		if j.FinishedAt != nil {
			ended = shortTime(*j.FinishedAt)
		}
		reason := j.Reason
		if j.Error != nil {
			reason = strings.TrimSpace(reason + " (failed: " + *j.Error + ")")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", j.Job, j.State, started, ended,
			fmtSeconds(j.Duration), j.Passed, j.Failed, j.Matched, j.Target, j.Actor, oneLine(reason))
	}
	_ = tw.Flush()
	if page.NextCursor != nil {
		fmt.Fprintf(env.Stdout, "\nmore: add --cursor %s\n", *page.NextCursor)
	}
	return exitOK
}

// fmtSeconds shows a duration to a tenth of a second.
func fmtSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}

// oneLine keeps a table row on one line whatever a reason holds, and a
// terminal safe from its control characters.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsPrint(r) {
			return r
		}
		return '\uFFFD'
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
