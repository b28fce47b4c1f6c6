package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
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
	// Admin: the user may register versions and change their states.
	Admin bool
	// Register is the register form, holding the latest version to edit.
	Register registerForm
	Formats  []schema.Format
	From, To int
	// Diff is the line diff of the two versions' texts.
	Diff           []diffLine
	Removed, Added int
	Changes        []changeView
	DiffProblem    string
	HasDiff        bool
	verdict
}

// verdict is what a set of changes means under the subject's level.
type verdict struct {
	// Level is the subject's compatibility level; Checked is false for
	// NONE, which checks nothing.
	Level   compat.Mode
	Checked bool
	// Breaking counts the changes that break a reading the level checks.
	Breaking int
}

// changeView is one change between two versions, judged by the subject's
// level: BreaksLevel when it breaks a reading the level checks; a change
// that breaks only the other reading is shown, but does not count.
type changeView struct {
	compat.Change
	BreaksLevel bool
}

func judge(level compat.Mode, changes []compat.Change) ([]changeView, verdict) {
	v := verdict{Level: level, Checked: level != compat.None}
	out := make([]changeView, len(changes))
	for i, c := range changes {
		out[i] = changeView{Change: c, BreaksLevel: c.Breaking && level.Checks(c.Direction)}
		if out[i].BreaksLevel {
			v.Breaking++
		}
	}
	return out, v
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
	d := subjectData{
		Subject: subject, Compatibility: m, Versions: vs, Admin: u.mayAdminister(r),
		Formats: []schema.Format{schema.FormatJSON, schema.FormatAvro, schema.FormatProtobuf},
	}
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
		d.Diff, d.Removed, d.Added = lineDiff(prettySchema(from.Text), prettySchema(to.Text))
		if d.From != d.To {
			// FULL finds the changes both ways; judge counts those that
			// break a reading the subject's own level checks.
			res, err := compat.Check(to.Format, compat.Full, []byte(to.Text), [][]byte{[]byte(from.Text)})
			if err != nil {
				d.DiffProblem = "The versions could not be compared: " + err.Error()
			} else {
				d.Changes, d.verdict = judge(m, res.Changes)
			}
		}
	}
	if d.Admin && u.opts.SchemaChanges != nil {
		latest, err := u.opts.Schemas.Get(ctx, subject, registry.Latest, false)
		if err != nil {
			u.internalError(w, r, "reading the latest schema version", err)
			return
		}
		d.Register = registerForm{Format: latest.Format, Text: prettySchema(latest.Text)}
	}
	d.Admin = d.Admin && u.opts.SchemaChanges != nil
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
