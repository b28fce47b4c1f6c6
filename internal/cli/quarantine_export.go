package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/httpapi"
)

func runQuarantineExport(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "quarantine export", "[filters] [--format jsonl|csv] [-o FILE] [--limit N] [--cursor C] [--server URL] [--token TOKEN]",
		`Export the quarantined records matching the filters, with their payloads,
as JSON Lines (one record per line, as 'quarantine show --json' prints it) or
CSV (a header row, then one row per record; cells a spreadsheet would run as
a formula start with a ' quote), newest first. The gateway streams the file:
any number of records, at most --limit per run; when a run stops there it
prints the --cursor that goes on.`+quarantineHelp)
	fs.exitStatus(`0  the export is complete (or stopped at --limit)
1  the gateway refused it or the transfer broke off (with -o, no file is left)
2  bad flags or arguments`)
	gw := gatewayFlags(fs)
	filters := addFilterFlags(fs)
	format := fs.String("format", "jsonl", "`jsonl` or csv")
	output := fs.String("o", "", "write to this `file` (written whole or not at all) instead of standard output")
	limit := fs.Int("limit", 0, fmt.Sprintf("export at most this many records, 1 to %d (default: the gateway's cap, %[1]d)", httpapi.MaxExport))
	cursor := fs.String("cursor", "", "go on from where an export stopped at its limit (the `cursor` it printed)")
	search := fs.String("search", "", "only records whose key or payload contains this `text`, ignoring case")
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "quarantine export takes no arguments, only flags")
	}
	if *format != "jsonl" && *format != "csv" {
		return usageError(fs, fmt.Sprintf("--format %q: want jsonl or csv", *format))
	}
	q, err := filters.values(time.Now())
	if err != nil {
		return usageError(fs, err.Error())
	}
	if *limit < 0 || *limit > httpapi.MaxExport {
		return usageError(fs, fmt.Sprintf("--limit must be from 1 to %d, got %d", httpapi.MaxExport, *limit))
	}
	params := url.Values{}
	for k, v := range q {
		params.Set(k, v)
	}
	params.Set("format", *format)
	if *limit != 0 {
		params.Set("limit", fmt.Sprint(*limit))
	}
	if *search != "" {
		params.Set("q", *search)
	}
	if *cursor != "" {
		params.Set("cursor", *cursor)
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "quarantine export: %v\n", err)
		return exitInvalid
	}
	resp, err := send(ctx, *gw.server, *gw.token, http.MethodGet, "/api/v1/quarantine/export?"+params.Encode(), nil)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only

	out, commit, abort, err := exportDestination(env, *output)
	if err != nil {
		return fail(err)
	}
	n, err := io.Copy(out, resp.Body)
	if err != nil {
		abort()
		return fail(fmt.Errorf("the transfer broke off after %d bytes: %w", n, err))
	}
	if err := commit(); err != nil {
		return fail(err)
	}
	what := "standard output"
	if *output != "" {
		what = *output
	}
	msg := fmt.Sprintf("exported %d bytes to %s", n, what)
	if total := resp.Header.Get("X-Total-Count"); total != "" {
		msg += fmt.Sprintf(" (%s records match)", total)
	}
	fmt.Fprintln(env.Stderr, msg)
	if next := resp.Trailer.Get("X-Next-Cursor"); next != "" {
		fmt.Fprintf(env.Stderr, "stopped at the limit; go on with --cursor %s\n", next)
	}
	return exitOK
}

// exportDestination opens where the export goes: standard output, or a
// temporary file beside path that commit renames to path and abort
// removes, so that a broken transfer leaves no file.
func exportDestination(env Env, path string) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "" {
		return env.Stdout, func() error { return nil }, func() {}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating %s: %w", path, err)
	}
	abort = func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	commit = func() error {
		if err := f.Close(); err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if err := os.Rename(f.Name(), path); err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}
	return f, commit, abort, nil
}
