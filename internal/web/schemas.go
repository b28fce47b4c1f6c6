package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat"
)

type subjectRow struct {
	Subject       string
	Latest        registry.Version
	Versions      int
	Compatibility compat.Mode
}

func (u *ui) schemaList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	subjects, err := u.opts.Schemas.Subjects(ctx, false)
	if err != nil {
		u.internalError(w, r, "listing schema subjects", err)
		return
	}
	rows := make([]subjectRow, 0, len(subjects))
	for _, s := range subjects {
		vs, err := u.opts.Schemas.Versions(ctx, s, false)
		if err != nil {
			u.internalError(w, r, "listing schema versions", err)
			return
		}
		m, err := u.opts.Schemas.Compatibility(ctx, s)
		if err != nil {
			u.internalError(w, r, "reading compatibility", err)
			return
		}
		row := subjectRow{Subject: s, Versions: len(vs), Compatibility: m}
		if len(vs) > 0 {
			row.Latest = vs[len(vs)-1]
		}
		rows = append(rows, row)
	}
	u.render(w, r, http.StatusOK, "schemas", "Schemas", "schemas", rows)
}

type subjectData struct {
	Subject       string
	Compatibility compat.Mode
	Versions      []registry.Version
	From, To      int
	FromText      string
	ToText        string
	Changes       []compat.Change
	Compatible    bool
	DiffProblem   string
	HasDiff       bool
}

func (u *ui) schemaDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	subject := r.PathValue("subject")
	vs, err := u.opts.Schemas.Versions(ctx, subject, false)
	if errors.Is(err, registry.ErrSubjectNotFound) || errors.Is(err, registry.ErrNotFound) || (err == nil && len(vs) == 0) {
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no schema subject %q.", subject))
		return
	}
	if err != nil {
		u.internalError(w, r, "listing schema versions", err)
		return
	}
	m, err := u.opts.Schemas.Compatibility(ctx, subject)
	if err != nil {
		u.internalError(w, r, "reading compatibility", err)
		return
	}
	d := subjectData{Subject: subject, Compatibility: m, Versions: vs}
	// The diff compares two versions: by default the two latest.
	d.To = vs[len(vs)-1].Version
	d.From = d.To
	if len(vs) > 1 {
		d.From = vs[len(vs)-2].Version
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("from")); err == nil {
		d.From = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("to")); err == nil {
		d.To = v
	}
	from, errFrom := u.opts.Schemas.Get(ctx, subject, d.From, false)
	to, errTo := u.opts.Schemas.Get(ctx, subject, d.To, false)
	switch {
	case notFound(errFrom) || notFound(errTo):
		d.DiffProblem = "No such version to compare."
	case errFrom != nil || errTo != nil:
		u.internalError(w, r, "reading schema versions", errors.Join(errFrom, errTo))
		return
	default:
		d.HasDiff = true
		d.FromText, d.ToText = prettySchema(from.Text), prettySchema(to.Text)
		if d.From != d.To {
			// FULL finds the changes in both directions; the page says
			// which break the subject's own level.
			res, err := compat.Check(to.Format, compat.Full, []byte(to.Text), [][]byte{[]byte(from.Text)})
			if err != nil {
				d.DiffProblem = "The versions could not be compared: " + err.Error()
			} else {
				d.Changes, d.Compatible = res.Changes, res.Compatible
			}
		}
	}
	u.render(w, r, http.StatusOK, "subject", "Schema "+subject, "schemas", d)
}

// prettySchema indents a JSON schema text (JSON Schema and Avro are both
// JSON), else returns it as it is.
func prettySchema(s string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}

func notFound(err error) bool {
	return errors.Is(err, registry.ErrVersionNotFound) || errors.Is(err, registry.ErrSubjectNotFound) ||
		errors.Is(err, registry.ErrNotFound)
}
