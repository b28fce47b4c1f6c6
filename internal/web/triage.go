package web

import (
	"context"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// The quarantine browser's columns: a record's key, its first error's
// message and the start of its payload, each cut to fit a table cell.
const (
	// previewBytes is how much of a payload a row reads (the payload store
	// reads about that much, however big the payload).
	previewBytes = 240
	// previewRunes, keyRunes and messageRunes cut what a cell shows.
	previewRunes = 160
	keyRunes     = 40
	messageRunes = 140
	// previewHexBytes is how many bytes of a binary payload or key a cell
	// shows in hex.
	previewHexBytes = 16
	// previewReaders bounds the payload reads one page makes at once.
	previewReaders = 8
)

// rowView is one row of the quarantine browser. Every field is plain text
// for the template to escape: payloads and keys are hostile.
type rowView struct {
	quarantine.Entry
	// Key is the record key cut to a cell: text, or hex when binary.
	Key     cellText
	Message string // the first error's message, cut
	// More is how many errors the record has beyond the first.
	More    int
	Preview cellText
	// Selected: the row's checkbox is ticked (the selection a bulk action
	// was asked for).
	Selected bool
}

// cellText is a value cut for a table cell.
type cellText struct {
	Text string
	// Kind is "text", "binary" (Text is hex), "null" (no value),
	// "missing" (the payload is not in the store) or "error" (it could
	// not be read now).
	Kind string
	Cut  bool // Text is only the start
}

// previewRows builds the rows of entries, reading the start of each
// payload, a few at a time. A payload that cannot be read does not fail
// the page: its cell says so, and an outage is logged once.
func (u *ui) previewRows(ctx context.Context, entries []quarantine.Entry, selected map[string]bool) []rowView {
	rows := make([]rowView, len(entries))
	var failed errorOnce
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(previewReaders)
	for i := range entries {
		e := &entries[i]
		rows[i] = rowView{Entry: *e, Key: keyCell(e.Key), Selected: selected[e.ID]}
		if len(e.Errors) > 0 {
			var c bool
			if rows[i].Message, c = cut(oneLine(e.Errors[0].Message), messageRunes); c {
				rows[i].Message += "…"
			}
			rows[i].More = len(e.Errors) - 1
		}
		g.Go(func() error {
			p, err := u.opts.Payloads.Preview(gctx, e.Payload, previewBytes)
			switch {
			case err == nil:
				rows[i].Preview = previewCell(p)
			case errors.Is(err, quarantine.ErrNotFound), errors.Is(err, quarantine.ErrCorrupt):
				rows[i].Preview = cellText{Kind: "missing", Text: "payload not stored"}
			default:
				rows[i].Preview = cellText{Kind: "error", Text: "payload unavailable"}
				failed.set(err)
			}
			return nil
		})
	}
	_ = g.Wait() // the readers return nil: each failure is its cell's
	if err := failed.get(); err != nil {
		u.log.WarnContext(ctx, "reading payload previews", "err", err)
	}
	return rows
}

// keyCell shows a key: text cut to a cell, or the start of its hex.
func keyCell(k []byte) cellText {
	switch {
	case k == nil:
		return cellText{Kind: "null"}
	case utf8.Valid(k) && printable(k):
		s, c := cut(oneLine(string(k)), keyRunes)
		return cellText{Kind: "text", Text: s, Cut: c}
	default:
		return hexCell(k, len(k))
	}
}

// previewCell shows the start of a payload: text on one line, or hex.
func previewCell(p quarantine.Preview) cellText {
	if p.Null {
		return cellText{Kind: "null", Text: "null (tombstone)"}
	}
	v := p.Value
	if p.Truncated() {
		v = trimPartialRune(v) // the read may have cut the last character
	}
	if utf8.Valid(v) && printable(v) {
		s, c := cut(oneLine(string(v)), previewRunes)
		return cellText{Kind: "text", Text: s, Cut: c || p.Truncated()}
	}
	return hexCell(p.Value, int(p.Size))
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

func hexCell(b []byte, size int) cellText {
	n := min(len(b), previewHexBytes)
	s := hex.EncodeToString(b[:n])
	var spaced strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			spaced.WriteByte(' ')
		}
		spaced.WriteString(s[i : i+2])
	}
	return cellText{Kind: "binary", Text: spaced.String(), Cut: size > n}
}

// oneLine folds every run of white space (line breaks included) into one
// space, for a cell.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// cut returns s cut to n runes, and whether it was.
func cut(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j], true
		}
		i++
	}
	return s, false
}

// errorOnce keeps the first error of concurrent readers.
type errorOnce struct {
	mu  sync.Mutex
	err error
}

func (e *errorOnce) set(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

func (e *errorOnce) get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// exportURL is the API's export of the records q's filters (and search)
// select, in format; f is q's filter as readFilter read it.
func exportURL(q url.Values, f quarantine.Filter, format string) string {
	out := url.Values{}
	for _, p := range filterParams {
		if v := q.Get(p); v != "" {
			out.Set(p, v)
		}
	}
	// The browser's times are datetime-local values; the API takes RFC 3339.
	for p, t := range map[string]time.Time{"since": f.Since, "until": f.Until} {
		if !t.IsZero() {
			out.Set(p, t.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"))
		}
	}
	out.Set("format", format)
	return "/api/v1/quarantine/export?" + out.Encode()
}
