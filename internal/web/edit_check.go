package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// prettyText is what the editor holds for value: JSON indented two spaces
// a level, member order, numbers and string escapes as sent (json.Indent
// only moves whitespace); anything else as it is.
func prettyText(value []byte) string {
	if !json.Valid(value) {
		return string(value)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, value, "", "  "); err != nil {
		return string(value)
	}
	return b.String()
}

// compactJSON is text on one line when it is JSON (json.Compact only drops
// whitespace between tokens), else text unchanged.
func compactJSON(text string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(text)) != nil {
		return text
	}
	return b.String()
}

// checkView is the editor's verdict on its text.
type checkView struct {
	Subject string
	Version int
	Errors  []checkError
	// Compact says the text was checked as it would be saved, on one line.
	Compact bool
}

// checkError is one violation, with the editor line of its field (of the
// nearest enclosing value present; 0 when it is on no line).
type checkError struct {
	errorView
	Line int
}

// newCheckView places c's violations on the lines of text.
func newCheckView(text string, c reprocess.Check) *checkView {
	v := &checkView{Subject: c.Subject, Version: c.Version}
	lines := make([]int, len(c.Violations))
	if pl, _, err := prettyJSON([]byte(text)); err == nil {
		// Mark the document's values as the record's page does, then
		// find each marked value's line in the text, however laid out.
		pv := payloadView{Lines: pl}
		pv.mark(c.Violations)
		newlines := newlineOffsets(text)
		for _, l := range pv.Lines {
			for _, e := range l.Errors {
				// The line holding the token's last byte: one more than
				// the newlines before it.
				lines[e-1] = sort.SearchInts(newlines, int(l.Offset)-1) + 1
			}
		}
	}
	for i, e := range c.Violations {
		v.Errors = append(v.Errors, checkError{errorView{N: i + 1, Violation: e}, lines[i]})
	}
	return v
}

// newlineOffsets are the offsets of text's newlines, in order.
func newlineOffsets(text string) []int {
	var out []int
	for i := range len(text) {
		if text[i] == '\n' {
			out = append(out, i)
		}
	}
	return out
}

// editValidate validates the editor's text for the record against the
// current schema and rules, as reprocessing would, and shows the verdict:
// every violation with its line. Nothing is saved.
func (u *ui) editValidate(w http.ResponseWriter, r *http.Request) {
	d, value, ok := u.editRequest(w, r)
	if !ok {
		return
	}
	c, err := u.opts.Reprocess.Check(r.Context(), d.Entry.ID, value)
	switch {
	case errors.Is(err, quarantine.ErrNotFound):
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("No quarantined record has the id %q.", d.Entry.ID))
		return
	case errors.Is(err, reprocess.ErrInvalidRequest):
		d.Problem = strings.TrimSuffix(err.Error(), ": "+reprocess.ErrInvalidRequest.Error()) + "."
		u.render(w, r, http.StatusBadRequest, "edit", "Edit "+shortID(d.Entry.ID), "quarantine", d)
		return
	case err != nil:
		u.internalError(w, r, "validating an edited payload", err)
		return
	}
	audit.Recorded(r.Context()) // a check changes nothing: no audit event
	// The lines are the editor's, so they are placed in its text.
	d.Check = newCheckView(d.Text, c)
	d.Check.Compact = d.Compact
	if isHTMX(r) {
		u.renderFragment(w, r, "edit", "check", d.Check)
		return
	}
	u.render(w, r, http.StatusOK, "edit", "Edit "+shortID(d.Entry.ID), "quarantine", d)
}
