package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const quarantineHelp = `
Talks to a running gateway's REST API (/api/v1) at --server (or $DQ_SERVER),
with the API token of --token or $DQ_TOKEN when the gateway has auth on.`

// quarantineCommands are the subcommands of "dataquarantine quarantine".
var quarantineCommands = []command{
	{"list", "list quarantined records, filtered and paged", runQuarantineList},
	{"show", "show one record: its errors, headers and payload", runQuarantineShow},
	{"reprocess", "re-validate records (by id or filter) and publish those that pass", runQuarantineReprocess},
	{"discard", "mark a record as deliberately dropped, with a reason", runQuarantineDiscard},
	{"jobs", "list reprocess jobs: who, why, when, how long, how far", runQuarantineJobs},
	{"export", "write the matching records, with payloads, as JSON Lines or CSV", runQuarantineExport},
}

func runQuarantine(ctx context.Context, env Env) int {
	return group{name: "quarantine", about: "Browse and act on quarantined records of a running gateway.", subs: quarantineCommands}.run(ctx, env)
}

// filterFlags are the record filters list and reprocess share.
type filterFlags struct {
	errorType, field, topic, subject, status, since, until *string
}

func addFilterFlags(fs *flagSet) filterFlags {
	return filterFlags{
		errorType: fs.String("error-type", "", "only records whose first error has this `type` (e.g. ENUM_VIOLATION)"),
		field:     fs.String("field", "", "only records whose first error is at this JSON `pointer` (e.g. /user_id)"),
		topic:     fs.String("topic", "", "only records from this source `topic`"),
		subject:   fs.String("subject", "", "only records of this schema `subject`"),
		status:    fs.String("status", "", "only records in this `status`: quarantined, reprocessing, reprocessed, failed_again, discarded, observed"),
		since:     fs.String("since", "", "only records quarantined at or after this `time` (RFC 3339, or a duration ago such as 2h)"),
		until:     fs.String("until", "", "only records quarantined before this `time` (RFC 3339, or a duration ago)"),
	}
}

// values returns the filters set, by API name; times are resolved to
// RFC 3339.
func (f filterFlags) values(now time.Time) (map[string]string, error) {
	out := map[string]string{}
	for name, v := range map[string]*string{
		"error_type": f.errorType, "field": f.field, "topic": f.topic, "subject": f.subject, "status": f.status,
	} {
		if *v != "" {
			out[name] = *v
		}
	}
	for name, v := range map[string]*string{"since": f.since, "until": f.until} {
		if *v == "" {
			continue
		}
		t, err := parseWhen(*v, now)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// parseWhen reads an RFC 3339 time, or a duration meaning that long ago.
func parseWhen(s string, now time.Time) (string, error) {
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return s, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC().Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("%q is neither an RFC 3339 time (2026-11-03T10:00:00Z) nor a duration (2h)", s)
}

// quarantineItem is a record as the API lists it.
type quarantineItem struct {
	ID              string      `json:"id"`
	SourceTopic     string      `json:"source_topic"`
	SourcePartition int32       `json:"source_partition"`
	SourceOffset    int64       `json:"source_offset"`
	Key             *string     `json:"key"`
	KeyEncoding     *string     `json:"key_encoding"`
	Subject         string      `json:"subject"`
	SchemaVersion   int         `json:"schema_version"`
	ErrorType       string      `json:"error_type"`
	ErrorField      string      `json:"error_field"`
	Errors          []violation `json:"errors"`
	QuarantinedAt   *string     `json:"quarantined_at"`
	Status          string      `json:"status"`
	PayloadSize     int         `json:"payload_size"`
}

type violation struct {
	Type    string `json:"type"`
	Field   string `json:"field"`
	Keyword string `json:"keyword"`
	Message string `json:"message"`
}

func (v violation) String() string {
	field := v.Field
	if field == "" {
		field = "(record)"
	}
	return fmt.Sprintf("%-17s %-20s %s", v.Type, field, v.Message)
}

func runQuarantineList(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "quarantine list", "[filters] [--limit N] [--cursor C] [--json] [--server URL] [--token TOKEN]",
		"List quarantined records, newest first, as a table (or the API's JSON with --json). A record's\nID is the table's first column; the same ID is its dq.quarantine.id header on the quarantine\ntopic and the end of its page's URL in the web UI."+quarantineHelp)
	gw := gatewayFlags(fs)
	filters := addFilterFlags(fs)
	limit := fs.Int("limit", 50, "records per page, 1 to 1000")
	cursor := fs.String("cursor", "", "the `cursor` printed after the previous page")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	search := fs.String("search", "", "only records whose key or payload contains this `text`, ignoring case (payloads are read: at most 10,000 records per page, so combine it with filters)")
	idsOnly := fs.Bool("ids", false, "print only the records' IDs, one a line (for scripts: id=$(dataquarantine quarantine list --search KEY --limit 1 --ids))")
	fs.exitStatus(exitsClient)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "quarantine list takes no arguments, only flags")
	}
	if *asJSON && *idsOnly {
		return usageError(fs, "--json and --ids exclude each other")
	}
	q, err := filters.values(time.Now())
	if err != nil {
		return usageError(fs, err.Error())
	}
	params := url.Values{}
	for k, v := range q {
		params.Set(k, v)
	}
	params.Set("limit", fmt.Sprint(*limit))
	if *search != "" {
		params.Set("q", *search)
	}
	if *cursor != "" {
		params.Set("cursor", *cursor)
	}
	var raw json.RawMessage
	if err := gw.call(ctx, http.MethodGet, "/api/v1/quarantine?"+params.Encode(), nil, &raw); err != nil {
		fmt.Fprintf(env.Stderr, "quarantine list: %v\n", err)
		return exitInvalid
	}
	if *asJSON {
		return printJSON(env, raw)
	}
	var page struct {
		Items      []quarantineItem `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		fmt.Fprintf(env.Stderr, "quarantine list: unexpected answer: %v\n", err)
		return exitInvalid
	}
	if *idsOnly {
		for _, it := range page.Items {
			fmt.Fprintln(env.Stdout, it.ID)
		}
		if page.NextCursor != nil {
			fmt.Fprintf(env.Stderr, "more: add --cursor %s\n", *page.NextCursor)
		}
		return exitOK
	}
	if len(page.Items) == 0 && page.NextCursor != nil {
		fmt.Fprintf(env.Stdout, "no match yet: the search ran out of budget; go on with --cursor %s\n", *page.NextCursor)
		return exitOK
	}
	if len(page.Items) == 0 {
		fmt.Fprintln(env.Stdout, "no quarantined records match")
		return exitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tQUARANTINED AT\tSOURCE\tSUBJECT\tERROR\tFIELD\tSTATUS")
	for _, it := range page.Items {
		at := ""
		if it.QuarantinedAt != nil {
			at = shortTime(*it.QuarantinedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s/%d@%d\t%s v%d\t%s\t%s\t%s\n", it.ID, at, it.SourceTopic, it.SourcePartition,
			it.SourceOffset, it.Subject, it.SchemaVersion, it.ErrorType, it.ErrorField, it.Status)
	}
	_ = tw.Flush()
	if page.NextCursor != nil {
		fmt.Fprintf(env.Stdout, "\nmore: add --cursor %s\n", *page.NextCursor)
	}
	return exitOK
}

// shortTime shows an API time to the second, in UTC.
func shortTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func runQuarantineShow(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "quarantine show", "ID [--json] [--server URL] [--token TOKEN]",
		"Show one quarantined record: where it came from, its errors, its original headers and its payload\n(pretty-printed when it is JSON)."+quarantineHelp)
	gw := gatewayFlags(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	fs.exitStatus(exitsClient)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "quarantine show takes one record ID")
	}
	var raw json.RawMessage
	if err := gw.call(ctx, http.MethodGet, "/api/v1/quarantine/"+url.PathEscape(fs.Arg(0)), nil, &raw); err != nil {
		fmt.Fprintf(env.Stderr, "quarantine show: %v\n", err)
		return exitInvalid
	}
	if *asJSON {
		return printJSON(env, raw)
	}
	var d struct {
		quarantineItem
		Timestamp       *string `json:"timestamp"`
		Payload         *string `json:"payload"`
		PayloadEncoding *string `json:"payload_encoding"`
		PayloadError    *string `json:"payload_error"`
		Headers         []struct {
			Key           string  `json:"key"`
			Value         *string `json:"value"`
			ValueEncoding *string `json:"value_encoding"`
		} `json:"headers"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		fmt.Fprintf(env.Stderr, "quarantine show: unexpected answer: %v\n", err)
		return exitInvalid
	}
	w := env.Stdout
	fmt.Fprintf(w, "ID              %s\n", d.ID)
	fmt.Fprintf(w, "Status          %s\n", d.Status)
	fmt.Fprintf(w, "Source          %s partition %d offset %d\n", d.SourceTopic, d.SourcePartition, d.SourceOffset)
	if d.Key != nil {
		fmt.Fprintf(w, "Key             %s\n", showBytes(d.Key, d.KeyEncoding))
	}
	if d.Timestamp != nil {
		fmt.Fprintf(w, "Timestamp       %s\n", *d.Timestamp)
	}
	if d.QuarantinedAt != nil {
		fmt.Fprintf(w, "Quarantined at  %s\n", *d.QuarantinedAt)
	}
	fmt.Fprintf(w, "Schema          %s version %d\n", d.Subject, d.SchemaVersion)
	fmt.Fprintf(w, "\nErrors (%d):\n", len(d.Errors))
	for _, v := range d.Errors {
		fmt.Fprintf(w, "  %s\n", v)
	}
	fmt.Fprintf(w, "\nHeaders (%d):\n", len(d.Headers))
	for _, h := range d.Headers {
		fmt.Fprintf(w, "  %s: %s\n", h.Key, showBytes(h.Value, h.ValueEncoding))
	}
	fmt.Fprintf(w, "\nPayload (%d bytes):\n", d.PayloadSize)
	switch {
	case d.PayloadError != nil:
		fmt.Fprintf(w, "  (not available: %s)\n", *d.PayloadError)
	case d.Payload == nil:
		fmt.Fprintln(w, "  (null: a tombstone)")
	case d.PayloadEncoding != nil && *d.PayloadEncoding == "base64":
		fmt.Fprintf(w, "  (binary, base64) %s\n", *d.Payload)
	default:
		// Indented as it came: members in their order, numbers as written.
		var pretty bytes.Buffer
		if json.Indent(&pretty, []byte(*d.Payload), "  ", "  ") == nil {
			fmt.Fprintf(w, "  %s\n", pretty.Bytes())
		} else {
			fmt.Fprintf(w, "  %q\n", *d.Payload)
		}
	}
	return exitOK
}

// showBytes shows a key or header value: quoted text, <null>, or
// base64:... for binary.
func showBytes(v, enc *string) string {
	switch {
	case v == nil:
		return "<null>"
	case enc != nil && *enc == "base64":
		if _, err := base64.StdEncoding.DecodeString(*v); err == nil {
			return "base64:" + *v
		}
	}
	return fmt.Sprintf("%q", *v)
}

// idsFlag collects --id, repeated or comma-separated.
type idsFlag []string

func (f *idsFlag) String() string { return strings.Join(*f, ",") }

func (f *idsFlag) Set(s string) error {
	for id := range strings.SplitSeq(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*f = append(*f, id)
		}
	}
	return nil
}

// pollInterval is how often reprocess --wait asks for progress.
var pollInterval = 500 * time.Millisecond

func runQuarantineReprocess(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "quarantine reprocess", "(--id ID ... | filters) [--dry-run] [--target clean|raw|source] [--reason TEXT] [--wait] [--server URL] [--token TOKEN]", `
Re-validate quarantined records against the current enforced schema and
rules, and publish those that pass to the clean topic (or back to their raw
topic with --target raw, or to their original topic as first produced with
--target source: the redrive of records imported by 'dataquarantine dlq
import'). Select records by --id, or by filters. With
--dry-run nothing changes: it prints how many match, how many would pass
now, and a sample of those that would still fail with their errors. A real
run starts a job on the gateway; --wait follows it until it ends, and exits
1 if any record failed again. Needs an operator token.`+quarantineHelp)
	fs.exitStatus(`0  the dry run's report is printed; the job started; with --wait, it ended and no record failed again
1  the gateway could not be reached or refused the request; with --wait, the job failed, or a record
   failed again (quarantine list --status failed_again lists them)
2  bad flags or arguments`)
	gw := gatewayFlags(fs)
	var ids idsFlag
	fs.Var(&ids, "id", "a record `ID` to reprocess; repeat the flag or separate IDs with commas")
	filters := addFilterFlags(fs)
	dryRun := fs.Bool("dry-run", false, "only report what would happen")
	target := fs.String("target", "clean", "where passing records go: `clean` (the clean topic), raw (back to their input topic) or source (their original topic, dead-letter headers dropped)")
	reason := fs.String("reason", "", "why, for the audit log")
	wait := fs.Bool("wait", false, "follow the job, printing progress, until it ends")
	asJSON := fs.Bool("json", false, "print the API's JSON answers")
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "quarantine reprocess takes no arguments: give record IDs with --id")
	}
	if *target != "clean" && *target != "raw" && *target != "source" {
		return usageError(fs, fmt.Sprintf("--target must be clean, raw or source, got %q", *target))
	}
	filter, err := filters.values(time.Now())
	if err != nil {
		return usageError(fs, err.Error())
	}
	if len(ids) == 0 && len(filter) == 0 {
		return usageError(fs, "select records with --id or at least one filter (every quarantined record: --status quarantined)")
	}
	body := map[string]any{"dry_run": *dryRun, "target": *target}
	f := map[string]any{}
	for k, v := range filter {
		f[k] = v
	}
	if len(ids) > 0 {
		f["ids"] = []string(ids)
	}
	body["filter"] = f
	if *reason != "" {
		body["reason"] = *reason
	}
	var raw json.RawMessage
	if err := gw.call(ctx, http.MethodPost, "/api/v1/reprocess", body, &raw); err != nil {
		fmt.Fprintf(env.Stderr, "quarantine reprocess: %v\n", err)
		return exitInvalid
	}
	if *asJSON && (*dryRun || !*wait) {
		return printJSON(env, raw)
	}
	if *dryRun {
		var r struct {
			Matched        int `json:"matched"`
			WouldPass      int `json:"would_pass"`
			WouldFail      int `json:"would_fail"`
			SampleFailures []struct {
				ID     string      `json:"id"`
				Errors []violation `json:"errors"`
			} `json:"sample_failures"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			fmt.Fprintf(env.Stderr, "quarantine reprocess: unexpected answer: %v\n", err)
			return exitInvalid
		}
		fmt.Fprintf(env.Stdout, "dry run: %d matched, %d would pass, %d would fail\n", r.Matched, r.WouldPass, r.WouldFail)
		if len(r.SampleFailures) > 0 {
			fmt.Fprintln(env.Stdout, "\nsample of those that would still fail:")
			for _, s := range r.SampleFailures {
				fmt.Fprintf(env.Stdout, "  %s\n", s.ID)
				for _, v := range s.Errors {
					fmt.Fprintf(env.Stdout, "    %s\n", v)
				}
			}
		}
		return exitOK
	}
	var started struct {
		Job string `json:"job"`
	}
	if err := json.Unmarshal(raw, &started); err != nil || started.Job == "" {
		fmt.Fprintf(env.Stderr, "quarantine reprocess: unexpected answer: %s\n", raw)
		return exitInvalid
	}
	if !*wait {
		fmt.Fprintf(env.Stdout, "started job %s (progress: GET /api/v1/reprocess/%s; --wait follows a run to its end)\n", started.Job, started.Job)
		return exitOK
	}
	fmt.Fprintf(env.Stdout, "started job %s\n", started.Job)
	return followJob(ctx, env, gw, started.Job, *asJSON)
}

type jobStatus struct {
	State   string `json:"state"`
	Matched int    `json:"matched"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
}

// followJob polls a reprocess job until it ends, printing each change.
func followJob(ctx context.Context, env Env, gw gateway, job string, asJSON bool) int {
	var last jobStatus
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				fmt.Fprintf(env.Stderr, "quarantine reprocess: stopped following job %s (it goes on): %v\n", job, ctx.Err())
				return exitInvalid
			case <-time.After(pollInterval):
			}
		}
		var raw json.RawMessage
		if err := gw.call(ctx, http.MethodGet, "/api/v1/reprocess/"+url.PathEscape(job), nil, &raw); err != nil {
			fmt.Fprintf(env.Stderr, "quarantine reprocess: job %s: %v\n", job, err)
			return exitInvalid
		}
		var st jobStatus
		if err := json.Unmarshal(raw, &st); err != nil {
			fmt.Fprintf(env.Stderr, "quarantine reprocess: unexpected answer: %v\n", err)
			return exitInvalid
		}
		if first || st != last {
			skipped := ""
			if st.Skipped > 0 {
				skipped = fmt.Sprintf(", %d skipped (taken by another job or changed meanwhile)", st.Skipped)
			}
			fmt.Fprintf(env.Stdout, "%-8s %d matched, %d passed, %d failed again%s\n", st.State, st.Matched, st.Passed, st.Failed, skipped)
			last = st
		}
		switch st.State {
		case "running":
			continue
		case "done":
			code := exitOK
			if asJSON {
				code = printJSON(env, raw)
			}
			if st.Failed > 0 {
				fmt.Fprintf(env.Stderr, "quarantine reprocess: %d of %d records failed again (quarantine list --status failed_again lists them)\n", st.Failed, st.Matched)
				return exitInvalid
			}
			return code
		default:
			fmt.Fprintf(env.Stderr, "quarantine reprocess: job %s ended %s\n", job, st.State)
			return exitInvalid
		}
	}
}

func runQuarantineDiscard(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "quarantine discard", "ID --reason TEXT [--server URL] [--token TOKEN]", `
Mark a quarantined record as deliberately dropped: it stays in the store
for the audit trail but is never reprocessed. The reason is required and
recorded with who discarded it. Needs an operator token.`+quarantineHelp)
	gw := gatewayFlags(fs)
	reason := fs.String("reason", "", "why the record is dropped (required)")
	fs.exitStatus(exitsClient)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "quarantine discard takes one record ID")
	}
	if strings.TrimSpace(*reason) == "" {
		return usageError(fs, "--reason is required: say why the record is dropped")
	}
	id := fs.Arg(0)
	if err := gw.call(ctx, http.MethodPost, "/api/v1/quarantine/"+url.PathEscape(id)+"/discard", map[string]string{"reason": *reason}, nil); err != nil {
		fmt.Fprintf(env.Stderr, "quarantine discard: %v\n", err)
		return exitInvalid
	}
	fmt.Fprintf(env.Stdout, "%s: discarded\n", id)
	return exitOK
}

func usageError(fs *flagSet, msg string) int {
	fmt.Fprintf(fs.env.Stderr, "%s\n\n", msg)
	fs.usage(fs.env.Stderr)
	return exitUsage
}

// printJSON prints an API answer indented, as it came: members in the
// API's order, numbers as written.
func printJSON(env Env, raw json.RawMessage) int {
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		out.Reset()
		out.Write(raw)
	}
	out.WriteByte('\n')
	if _, err := env.Stdout.Write(out.Bytes()); err != nil {
		return exitInvalid
	}
	return exitOK
}
