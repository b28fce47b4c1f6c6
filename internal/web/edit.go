package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// editData is the edit page: a record's payload in a textarea.
type editData struct {
	Entry  quarantine.Entry
	Errors []errorView
	// Text is what the textarea holds: the corrected payload if any, else
	// the original; after a refused save, what was sent.
	Text     string
	Reason   string
	Problem  string
	MaxBytes int
	// Compact saves JSON on one line, as it usually travels: checked when
	// the payload came so.
	Compact bool
	// Check is the verdict of "Validate", nil before.
	Check *checkView
}

// editableText reports whether the UI offers to edit value: text that a
// textarea holds unchanged (UTF-8, no control characters but tab and
// newlines). Binary payloads are corrected through the API.
func editableText(value []byte) bool {
	return utf8.Valid(value) && printable(value)
}

// editPage shows the record's current payload in a form that stores a
// corrected one.
func (u *ui) editPage(w http.ResponseWriter, r *http.Request) {
	if !u.actions(r.Context()).EditPayload {
		u.forbidden(w, r)
		return
	}
	d, ok := u.editable(w, r)
	if !ok {
		return
	}
	u.render(w, r, http.StatusOK, "edit", "Edit "+shortID(d.Entry.ID), "quarantine", d)
}

// editable loads the record and its current payload for the edit page,
// or answers why it cannot be edited and returns false.
func (u *ui) editable(w http.ResponseWriter, r *http.Request) (editData, bool) {
	id := r.PathValue("id")
	e, err := u.opts.Quarantine.Get(r.Context(), id)
	if errors.Is(err, quarantine.ErrNotFound) {
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("No quarantined record has the id %q.", id))
		return editData{}, false
	}
	if err != nil {
		u.internalError(w, r, "getting quarantine entry", err)
		return editData{}, false
	}
	if !e.Status.Actionable() {
		u.errorPage(w, r, http.StatusConflict, fmt.Sprintf("The record is %s: only quarantined or failed_again records can be edited.", e.Status))
		return editData{}, false
	}
	var value []byte
	if e.Corrected {
		value, err = u.opts.Reprocess.Correction(r.Context(), id)
	}
	if !e.Corrected || errors.Is(err, quarantine.ErrNotFound) {
		var p quarantine.Payload
		p, err = u.opts.Payloads.Read(r.Context(), e.Payload)
		value = p.Value
	}
	switch {
	case errors.Is(err, quarantine.ErrNotFound):
		u.errorPage(w, r, http.StatusConflict, "The payload is not in the payload store (yet: a spool may still hold it).")
		return editData{}, false
	case err != nil:
		u.internalError(w, r, "reading the payload to edit", err)
		return editData{}, false
	case !editableText(value):
		u.errorPage(w, r, http.StatusUnprocessableEntity,
			"Editing is for text payloads; this one is binary. PUT /api/v1/quarantine/"+id+"/payload takes any bytes.")
		return editData{}, false
	}
	d := editData{
		Entry: e, Text: prettyText(value), MaxBytes: u.opts.Reprocess.MaxPayloadBytes(),
		Compact: json.Valid(value) && !bytes.ContainsAny(value, "\r\n"),
	}
	for i, v := range e.Errors {
		d.Errors = append(d.Errors, errorView{N: i + 1, Violation: v})
	}
	return d, true
}

// editRequest reads an edit form's request (save or validate) for a
// record the user may edit: the page's data and the payload as it would be
// stored (on one line again when it came so). On a failure it answers the
// request and returns false.
func (u *ui) editRequest(w http.ResponseWriter, r *http.Request) (editData, []byte, bool) {
	if !u.actions(r.Context()).EditPayload {
		u.forbidden(w, r)
		return editData{}, nil, false
	}
	d, ok := u.editable(w, r)
	if !ok || !u.readEditForm(w, r, &d) {
		return editData{}, nil, false
	}
	value := d.Text
	if d.Compact {
		value = compactJSON(value)
	}
	return d, []byte(value), true
}

// editSave stores the form's payload as the record's corrected payload,
// as PUT /api/v1/quarantine/{id}/payload does, and goes back to the
// record.
func (u *ui) editSave(w http.ResponseWriter, r *http.Request) {
	d, value, ok := u.editRequest(w, r)
	if !ok {
		return
	}
	actor, role := u.actor(r.Context())
	err := u.opts.Reprocess.Correct(r.Context(), d.Entry.ID, value, quarantine.Change{Actor: actor, Role: role, Reason: d.Reason})
	switch {
	case errors.Is(err, quarantine.ErrNotFound):
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("No quarantined record has the id %q.", d.Entry.ID))
		return
	case errors.Is(err, quarantine.ErrConflict):
		u.errorPage(w, r, http.StatusConflict, "Only quarantined or failed_again records can be edited; this one changed meanwhile.")
		return
	case errors.Is(err, reprocess.ErrInvalidRequest):
		d.Problem = strings.TrimSuffix(err.Error(), ": "+reprocess.ErrInvalidRequest.Error()) + ". Nothing was saved."
		u.render(w, r, http.StatusBadRequest, "edit", "Edit "+shortID(d.Entry.ID), "quarantine", d)
		return
	case err != nil:
		u.internalError(w, r, "correcting a payload", err)
		return
	}
	audit.Recorded(r.Context()) // the store records the change with the payload
	redirect(w, r, "/quarantine/"+url.PathEscape(d.Entry.ID))
}

// readEditForm reads the editor's form into d, or answers why it cannot
// (too large, unreadable) and returns false.
func (u *ui) readEditForm(w http.ResponseWriter, r *http.Request, d *editData) bool {
	limit := d.MaxBytes
	// URL encoding takes up to three bytes per byte, and the reason rides
	// along.
	r.Body = http.MaxBytesReader(w, r.Body, int64(3*limit+64<<10))
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			u.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
			return false
		}
		d.Problem = fmt.Sprintf("The payload is over the %s-byte limit (limits.max_bytes). Nothing was saved.", num(int64(limit)))
		u.render(w, r, http.StatusRequestEntityTooLarge, "edit", "Edit "+shortID(d.Entry.ID), "quarantine", *d)
		return false
	}
	// Browsers send a textarea's line breaks as CRLF whatever they were:
	// store them as LF, as payloads usually have them.
	d.Text = strings.ReplaceAll(r.PostForm.Get("payload"), "\r\n", "\n")
	d.Reason = r.PostForm.Get("reason")
	d.Compact = r.PostForm.Get("compact") != ""
	if len(d.Text) > limit {
		d.Problem = fmt.Sprintf("The payload is %s bytes; the limit is %s bytes (limits.max_bytes). Nothing was saved.",
			num(int64(len(d.Text))), num(int64(limit)))
		u.render(w, r, http.StatusRequestEntityTooLarge, "edit", "Edit "+shortID(d.Entry.ID), "quarantine", *d)
		return false
	}
	return true
}
