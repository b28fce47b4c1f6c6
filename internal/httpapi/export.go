package httpapi

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// MaxExport caps the records one export answers; an export cut by it says
// where to go on in its X-Next-Cursor trailer.
const MaxExport = 1_000_000

// exportPage is how many entries an export lists at a time: its memory is
// one page of metadata and one payload, whatever the export's size.
const exportPage = 500

// Export formats.
const (
	formatJSONL = "jsonl"
	formatCSV   = "csv"
)

// csvColumns are the CSV export's columns, in order.
var csvColumns = []string{
	"id", "quarantined_at", "source_topic", "source_partition", "source_offset", "timestamp",
	"key", "key_encoding", "subject", "schema_version", "status", "error_type", "error_field",
	"error_message", "errors", "payload_size", "payload", "payload_encoding", "payload_error",
}

// exportQuarantine streams the records matching the list's filters (and
// q) as JSON Lines or CSV, newest first, page by page: the response is
// never held whole. It stops after limit records (at most MaxExport) and
// then names, in the X-Next-Cursor trailer, the cursor that goes on.
func (a *api) exportQuarantine(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if problem := repeatedParameter(q); problem != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, problem)
		return
	}
	format := q.Get("format")
	if format == "" {
		format = formatJSONL
	}
	if format != formatJSONL && format != formatCSV {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter,
			fmt.Sprintf("invalid format %q: must be jsonl or csv", format))
		return
	}
	limit := MaxExport
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxExport {
			WriteError(w, http.StatusBadRequest, codeInvalidParameter,
				fmt.Sprintf("invalid limit %q: must be an integer from 1 to %d", v, MaxExport))
			return
		}
		limit = n
	}
	listQuery := url.Values{}
	for k, vs := range q {
		if k != "format" && k != "limit" {
			listQuery[k] = vs
		}
	}
	f, msg := parseFilter(listQuery)
	if msg != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, msg)
		return
	}
	if f.Cursor != "" {
		if _, _, err := quarantine.DecodeCursor(f.Cursor); err != nil {
			WriteError(w, http.StatusBadRequest, codeInvalidParameter,
				"invalid cursor: use the X-Next-Cursor of a previous export")
			return
		}
	}
	text := q.Get("q")
	h := w.Header()
	if text == "" {
		n, err := a.quarantine.Count(r.Context(), f)
		if err != nil {
			a.internalError(w, r, "counting quarantine entries", err)
			return
		}
		// All that match; with a cursor, this export holds fewer.
		h.Set("X-Total-Count", strconv.FormatInt(n, 10))
	}
	ext, ctype := "jsonl", "application/x-ndjson"
	if format == formatCSV {
		ext, ctype = "csv", "text/csv; charset=utf-8"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="quarantine-%s.%s"`, time.Now().UTC().Format("20060102T150405Z"), ext))
	h.Set("Cache-Control", "no-store")
	h.Set("Trailer", "X-Next-Cursor")
	w.WriteHeader(http.StatusOK)
	// The status and headers go now: a browser shows the download at once,
	// and a failure later breaks off a transfer the client has seen start.
	if err := http.NewResponseController(w).Flush(); err != nil {
		return
	}

	out := bufio.NewWriterSize(w, 64<<10)
	var rows rowWriter = jsonlWriter{json.NewEncoder(out)}
	if format == formatCSV {
		cw := csvWriter{csv.NewWriter(out)}
		if err := cw.header(); err != nil {
			return // the client went away
		}
		rows = cw
	}
	next, err := a.export(r, f, text, limit, rows, func() error {
		if err := out.Flush(); err != nil {
			return err
		}
		return http.NewResponseController(w).Flush()
	})
	if err == nil {
		err = rows.flush()
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		// The status is sent: the client must not take a cut file for a
		// whole one, so the response is broken off, not ended.
		if r.Context().Err() == nil {
			a.log.ErrorContext(r.Context(), "exporting quarantine entries", "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	if next != "" {
		h.Set("X-Next-Cursor", next)
	}
}

// export writes up to limit records matching f (and text) to rows, page by
// page, calling flush after each page, and returns the cursor after the
// last record written when it stopped at limit with more to go.
func (a *api) export(r *http.Request, f quarantine.Filter, text string, limit int, rows rowWriter, flush func() error) (string, error) {
	ctx := r.Context()
	needle := quarantine.Needle(text)
	written := 0
	f.Limit = exportPage
	for {
		page, err := a.quarantine.List(ctx, f)
		if err != nil {
			return "", fmt.Errorf("listing entries: %w", err)
		}
		for i := range page.Entries {
			e := &page.Entries[i]
			d, p, err := a.withPayload(ctx, e)
			if err != nil {
				return "", fmt.Errorf("reading the payload of %s: %w", e.ID, err)
			}
			if text != "" {
				var value []byte
				if p != nil {
					value = p.Value
				}
				if !quarantine.Contains(e.Key, value, needle) {
					continue
				}
			}
			if err := rows.write(&d); err != nil {
				return "", err
			}
			if written++; written == limit {
				next := ""
				if i < len(page.Entries)-1 || page.NextCursor != "" {
					next = quarantine.EncodeCursor(e.QuarantinedAt.UnixNano(), e.ID)
				}
				return next, flush()
			}
		}
		if err := flush(); err != nil {
			return "", err
		}
		if page.NextCursor == "" {
			return "", nil
		}
		f.Cursor = page.NextCursor
	}
}

// rowWriter writes export records in one format.
type rowWriter interface {
	write(d *detail) error
	flush() error
}

type jsonlWriter struct{ enc *json.Encoder }

func (j jsonlWriter) write(d *detail) error { return j.enc.Encode(d) }
func (jsonlWriter) flush() error            { return nil }

type csvWriter struct{ w *csv.Writer }

func (c csvWriter) header() error { return c.w.Write(csvColumns) }

func (c csvWriter) write(d *detail) error {
	errs, err := json.Marshal(d.Errors)
	if err != nil {
		return fmt.Errorf("encoding the errors of %s: %w", d.ID, err)
	}
	message := ""
	if len(d.Errors) > 0 {
		message = d.Errors[0].Message
	}
	return c.w.Write([]string{
		cell(d.ID), cell(deref(d.QuarantinedAt)), cell(d.SourceTopic),
		strconv.FormatInt(int64(d.SourcePartition), 10), strconv.FormatInt(d.SourceOffset, 10),
		cell(deref(d.Timestamp)), cell(deref(d.Key)), cell(deref(d.KeyEncoding)), cell(d.Subject),
		strconv.Itoa(d.SchemaVersion), cell(string(d.Status)), cell(string(d.ErrorType)), cell(d.ErrorField),
		cell(message), cell(string(errs)), strconv.Itoa(d.PayloadSize),
		cell(deref(d.Payload)), cell(deref(d.PayloadEncoding)), cell(deref(d.PayloadError)),
	})
}

func (c csvWriter) flush() error {
	c.w.Flush()
	return c.w.Error()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// cell guards a CSV cell against formula injection: a spreadsheet runs a
// cell that begins with =, +, -, @, a tab or a carriage return as a
// formula, so such a cell gets a leading single quote, which spreadsheets
// show as text (OWASP's advice). Quotes, commas and line breaks inside a
// cell are the csv package's to quote.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
