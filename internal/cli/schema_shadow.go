package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

// The schema subcommands of shadow evaluation: what a version in shadow
// would change, and its guarded promotion.
func init() {
	schemaCommands = append(schemaCommands,
		command{"shadow", "show what a subject's versions in shadow would change on live traffic", runSchemaShadow},
		command{"promote", "enforce a version in shadow, unless it would newly reject too much", runSchemaPromote},
	)
}

// shadowReportJSON is GET /api/v1/schemas/{subject}/shadow.
type shadowReportJSON struct {
	Subject            string              `json:"subject"`
	EnforcedVersion    int                 `json:"enforced_version"`
	Sample             float64             `json:"sample"`
	Window             string              `json:"window"`
	Versions           []shadowVersionJSON `json:"versions"`
	RegisteredVersions []int               `json:"registered_versions"`
}

type shadowVersionJSON struct {
	Version int                           `json:"version"`
	Since   *string                       `json:"since"`
	Recent  shadowCountsJSON              `json:"recent"`
	Total   shadowCountsJSON              `json:"total"`
	Samples map[string][]shadowSampleJSON `json:"samples"`
}

type shadowCountsJSON struct {
	Seen               int64   `json:"seen"`
	AgreePass          int64   `json:"agree_pass"`
	AgreeFail          int64   `json:"agree_fail"`
	NewlyRejected      int64   `json:"newly_rejected"`
	NewlyAccepted      int64   `json:"newly_accepted"`
	NewlyRejectedShare float64 `json:"newly_rejected_share"`
	NewlyRejectedBy    []struct {
		ErrorType string `json:"error_type"`
		Field     string `json:"field"`
		Records   int64  `json:"records"`
	} `json:"newly_rejected_by"`
}

type shadowSampleJSON struct {
	ID              string             `json:"id"`
	Topic           string             `json:"topic"`
	Partition       int32              `json:"partition"`
	Offset          int64              `json:"offset"`
	Stored          bool               `json:"stored"`
	Value           *string            `json:"value"`
	ValueEncoding   *string            `json:"value_encoding"`
	ValueTruncated  bool               `json:"value_truncated"`
	EnforcedErrors  []record.Violation `json:"enforced_errors"`
	CandidateErrors []record.Violation `json:"candidate_errors"`
}

func shadowPath(subject string) string { return "/api/v1/schemas/" + url.PathEscape(subject) }

func runSchemaShadow(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "schema shadow", "SUBJECT [--window 1h] [--samples N] [--json] [--server URL] [--token TOKEN]", `
Show what SUBJECT's versions in shadow would change if enforced: of the
records evaluated against each (by this gateway: with several gateways,
each reports its own partitions; schema_shadow_verdicts_total adds them up),
how many both versions accept or reject, how many the candidate would
newly reject or newly accept, what it would newly reject them for, and the
latest of those records (newly rejected ones are on the clean topic today:
their topic, partition and offset find them there).

Put a version in shadow with 'dataquarantine schema state SUBJECT N shadow';
enforce it with 'dataquarantine schema promote'.`)
	fs.exitStatus(exitsClient)
	gw := gatewayFlags(fs)
	window := fs.String("window", "1h", "the recent `window`: whole minutes from 1m to 1h")
	samples := fs.Int("samples", 3, "how many newly rejected and newly accepted records to show per version (`N`, 0 to 10)")
	asJSON := fs.Bool("json", false, "print the gateway's JSON report as it is")
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.Stderr, "schema shadow: want SUBJECT")
		return exitUsage
	}
	if *samples < 0 || *samples > shadow.SamplesPerOutcome {
		return usageError(fs, fmt.Sprintf("--samples must be from 0 to %d, got %d", shadow.SamplesPerOutcome, *samples))
	}
	var raw json.RawMessage
	if err := gw.call(ctx, http.MethodGet, shadowPath(fs.Arg(0))+"/shadow?window="+url.QueryEscape(*window), nil, &raw); err != nil {
		fmt.Fprintf(env.Stderr, "schema shadow: %v\n", err)
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
			return exitUsage
		}
		return exitInvalid
	}
	if *asJSON {
		fmt.Fprintf(env.Stdout, "%s\n", raw)
		return exitOK
	}
	var rep shadowReportJSON
	if err := json.Unmarshal(raw, &rep); err != nil {
		fmt.Fprintf(env.Stderr, "schema shadow: unexpected answer: %v\n", err)
		return exitInvalid
	}
	printShadow(env.Stdout, rep, *samples)
	return exitOK
}

func printShadow(w io.Writer, rep shadowReportJSON, samples int) {
	enforced := "no version enforced"
	if rep.EnforcedVersion > 0 {
		enforced = fmt.Sprintf("v%d enforced", rep.EnforcedVersion)
	}
	fmt.Fprintf(w, "%s: %s; %s of records evaluated in shadow (this gateway)\n", rep.Subject, enforced, shadow.Percent(rep.Sample))
	if len(rep.Versions) == 0 {
		fmt.Fprintln(w, "No version is in shadow.")
		for _, v := range rep.RegisteredVersions {
			fmt.Fprintf(w, "  v%d is registered: evaluate it with 'dataquarantine schema state %s %d shadow'\n", v, rep.Subject, v)
		}
		return
	}
	for _, v := range rep.Versions {
		since := "no record evaluated yet"
		if v.Since != nil {
			since = "counting since " + *v.Since
		}
		fmt.Fprintf(w, "\nv%d in shadow (%s)\n", v.Version, since)
		for _, c := range []struct {
			label  string
			counts shadowCountsJSON
		}{{"last " + rep.Window, v.Recent}, {"total", v.Total}} {
			n := c.counts
			fmt.Fprintf(w, "  %-9s %d records: would newly reject %d (%s), newly accept %d; both accept %d, both reject %d\n",
				c.label+":", n.Seen, n.NewlyRejected, shadow.Percent(n.NewlyRejectedShare), n.NewlyAccepted, n.AgreePass, n.AgreeFail)
		}
		if by := v.Recent.NewlyRejectedBy; len(by) > 0 {
			fmt.Fprintf(w, "  newly rejected for (last %s; a record counts under each of its errors):\n", rep.Window)
			for _, e := range by {
				fmt.Fprintf(w, "    %-18s %-30s %d\n", e.ErrorType, printable(at(e.Field)), e.Records)
			}
		}
		for _, o := range []string{string(shadow.NewlyRejected), string(shadow.NewlyAccepted)} {
			ss := v.Samples[o]
			if len(ss) == 0 || samples == 0 {
				continue
			}
			fmt.Fprintf(w, "  latest %s:\n", strings.ReplaceAll(o, "_", " "))
			for _, s := range ss[:min(samples, len(ss))] {
				where := fmt.Sprintf("%s/%d@%d", s.Topic, s.Partition, s.Offset)
				if s.Stored {
					where += " (quarantine " + s.ID + ")"
				}
				fmt.Fprintf(w, "    %s %s\n", where, preview(s))
				errs := s.CandidateErrors
				if o == string(shadow.NewlyAccepted) {
					errs = s.EnforcedErrors // what it is quarantined for today
				}
				for _, e := range errs {
					fmt.Fprintf(w, "      %s%s: %s\n", e.Type, printable(at(e.Field)), printable(e.Message))
				}
			}
		}
	}
	fmt.Fprintf(w, "\nEnforce one with 'dataquarantine schema promote %s VERSION --max-newly-rejected 1%%'.\n", rep.Subject)
}

func at(field string) string {
	if field == "" {
		return ""
	}
	return " at " + field
}

// preview is a sample's value on one line, cut at 120 characters: compact
// JSON, else quoted; never a control character (a payload is hostile
// input, for a terminal too).
func preview(s shadowSampleJSON) string {
	switch {
	case s.Value == nil:
		return "(tombstone)"
	case s.ValueEncoding != nil && *s.ValueEncoding == "base64":
		return "(binary, base64) " + cut(*s.Value, 120)
	}
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(*s.Value)) != nil {
		return strconv.Quote(cut(*s.Value, 120))
	}
	return printable(cut(buf.String(), 120))
}

// printable replaces control characters (a terminal's escape sequences
// among them) with '?': fields and messages quote the payload.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// parseShare reads a share as "1%", "0.5%" or a fraction "0.01".
func parseShare(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err == nil && pct {
		f /= 100
	}
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return 0, fmt.Errorf("%q is not a share: write a percentage from 0%% to 100%% (1%%) or a fraction from 0 to 1 (0.01)", s)
	}
	return f, nil
}

func runSchemaPromote(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "schema promote", "SUBJECT VERSION [--max-newly-rejected 1%] [--window 1h] [--server URL] [--token TOKEN]", `
Enforce VERSION of SUBJECT, a version in shadow, unless the records this
gateway evaluated against it over the window say it would newly reject a
larger share than --max-newly-rejected (records the enforced version
accepts and VERSION would not). A refusal shows the figure and the commonest
error; no record evaluated is a refusal too. The older enforced versions
stay enforced, as fallbacks, until you deprecate them
('dataquarantine schema state SUBJECT N deprecated'). The promotion is
audited.`)
	fs.exitStatus(`0  promoted
1  refused (the figure says why), or the gateway could not be reached or failed
2  bad flags or arguments`)
	gw := gatewayFlags(fs)
	maxShare := fs.String("max-newly-rejected", "0%", "the largest `share` of evaluated records the version may newly reject: a percentage (1%) or a fraction (0.01)")
	window := fs.String("window", "1h", "how far back evaluated records count: whole minutes from 1m to 1h")
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(env.Stderr, "schema promote: want SUBJECT VERSION")
		return exitUsage
	}
	share, err := parseShare(*maxShare)
	if err != nil {
		fmt.Fprintf(env.Stderr, "schema promote: --max-newly-rejected: %v\n", err)
		return exitUsage
	}
	var resp struct {
		Seen               int64   `json:"seen"`
		NewlyRejected      int64   `json:"newly_rejected"`
		NewlyRejectedShare float64 `json:"newly_rejected_share"`
		Window             string  `json:"window"`
	}
	path := shadowPath(fs.Arg(0)) + "/versions/" + url.PathEscape(fs.Arg(1)) + "/promote"
	if err := gw.call(ctx, http.MethodPost, path, map[string]any{"max_newly_rejected": share, "window": *window}, &resp); err != nil {
		fmt.Fprintf(env.Stderr, "schema promote: %v\n", err)
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
			return exitUsage
		}
		return exitInvalid
	}
	fmt.Fprintf(env.Stdout, "%s version %s is now enforced: it would newly reject %s (%d of %d records evaluated in the last %s), within the %s allowed\n",
		fs.Arg(0), fs.Arg(1), shadow.Percent(resp.NewlyRejectedShare), resp.NewlyRejected, resp.Seen, resp.Window, shadow.Percent(share))
	return exitOK
}
