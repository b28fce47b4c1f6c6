package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// SchemaWriter registers schema versions and rolls them out, each change
// audited; *registryapi.Handler is one (the API's own changes).
type SchemaWriter interface {
	Register(ctx context.Context, req registry.RegisterRequest) (registry.SubjectSchema, error)
	SetState(ctx context.Context, subject string, version int, state registry.State) (registry.Version, error)
}

// maxSchemaForm bounds a register form: a schema of the registry API's
// largest (4 MiB) with room for the form around it.
const maxSchemaForm = 4<<20 + 64<<10

// registerForm is the register form: a schema to register as the
// subject's next version, pasted or uploaded.
type registerForm struct {
	Format schema.Format
	Text   string
	Label  string
	// Checked is the fingerprint of what was checked: the registration
	// must be of exactly that.
	Checked string
}

// fingerprint identifies what a check was of.
func (f registerForm) fingerprint(subject string) string {
	sum := sha256.Sum256([]byte(subject + "\x00" + string(f.Format) + "\x00" + f.Text + "\x00" + f.Label))
	return hex.EncodeToString(sum[:])
}

// registerResult is the answer to a register form: the check of the
// schema against the subject under its level, and the registration.
type registerResult struct {
	Subject string
	Problem string
	Form    registerForm
	// Next is the version a registration would make.
	Next    int
	Changes []changeView
	verdict
	Diff           []diffLine
	Removed, Added int
	// Existing is the version that already holds this schema, 0 if none.
	Existing int
}

func (u *ui) mayAdminister(r *http.Request) bool {
	return u.opts.MayAdminister == nil || u.opts.MayAdminister(r.Context())
}

// schemaForm reads a register form (urlencoded, or multipart with an
// uploaded file, which replaces the pasted text), for admins only.
func (u *ui) schemaForm(w http.ResponseWriter, r *http.Request) (registerForm, string, bool) {
	if !u.mayAdminister(r) {
		u.errorPage(w, r, http.StatusForbidden, "This needs the admin role.")
		return registerForm{}, "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSchemaForm)
	err := r.ParseMultipartForm(1 << 20) //nolint:gosec // G120: r.Body is bounded just above; beyond 1 MiB, parts spill to temporary files
	if errors.Is(err, http.ErrNotMultipart) {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		u.errorPage(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is over %d bytes: a schema may be 4 MiB.", maxSchemaForm))
		return registerForm{}, "", false
	case err != nil:
		u.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return registerForm{}, "", false
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll() //nolint:errcheck // temporary files; nothing to do on failure
	}
	f := registerForm{
		Format: schema.Format(strings.ToUpper(r.FormValue("format"))), Text: r.FormValue("schema"),
		Label: strings.TrimSpace(r.FormValue("label")), Checked: r.FormValue("checked"),
	}
	problem := ""
	if file, hdr, err := r.FormFile("file"); err == nil {
		defer file.Close() //nolint:errcheck // read-only
		b, err := io.ReadAll(file)
		switch {
		case err != nil:
			problem = "The file could not be read."
		case hdr.Size == 0 || len(b) == 0:
			// An empty file input: keep the text.
		case !utf8.Valid(b):
			problem = fmt.Sprintf("%s is not text (UTF-8): a schema is.", hdr.Filename)
		default:
			f.Text = string(b)
		}
	}
	// Browsers send a text area's line breaks as CRLF.
	f.Text = strings.ReplaceAll(f.Text, "\r\n", "\n")
	switch {
	case problem != "":
	case f.Format != schema.FormatJSON && f.Format != schema.FormatAvro && f.Format != schema.FormatProtobuf:
		problem = "Choose the schema's type: JSON, AVRO or PROTOBUF."
	case strings.TrimSpace(f.Text) == "":
		problem = "Paste a schema, or choose a file."
	}
	return f, problem, true
}

// schemaCheck checks a schema against the subject under its level, as the
// registry will on registration, and shows the changes, a diff from the
// latest version and, when the registry would take it, the button that
// registers it.
func (u *ui) schemaCheck(w http.ResponseWriter, r *http.Request) {
	f, problem, ok := u.schemaForm(w, r)
	if !ok {
		return
	}
	res := u.check(w, r, r.PathValue("subject"), f, problem)
	if res == nil {
		return
	}
	audit.Recorded(r.Context()) // a check changes nothing
	u.renderFragment(w, r, "subject", "register-result", res)
}

// check builds the answer to a register form; nil when it answered with
// an error page.
func (u *ui) check(w http.ResponseWriter, r *http.Request, subject string, f registerForm, problem string) *registerResult {
	ctx := r.Context()
	res := &registerResult{Subject: subject, Form: f, Problem: problem}
	vs, err := u.opts.Schemas.Versions(ctx, subject, false)
	if err != nil && !notFound(err) {
		u.internalError(w, r, "listing schema versions", err)
		return nil
	}
	res.Next = 1
	if len(vs) > 0 {
		res.Next = vs[len(vs)-1].Version + 1
	}
	if res.Problem != "" {
		return res
	}
	level, err := u.opts.Schemas.Compatibility(ctx, subject)
	if err != nil {
		u.internalError(w, r, "reading compatibility", err)
		return nil
	}
	result, err := u.opts.Schemas.Check(ctx, subject, 0, f.Format, f.Text)
	switch {
	case errors.Is(err, registry.ErrInvalidSchema):
		res.Problem = "The schema is not valid: " + strings.TrimPrefix(err.Error(), registry.ErrInvalidSchema.Error()+": ")
		return res
	case err != nil:
		u.internalError(w, r, "checking a schema", err)
		return nil
	}
	res.Changes, res.verdict = judge(level, result.Changes)
	if len(vs) > 0 {
		latest, err := u.opts.Schemas.Get(ctx, subject, registry.Latest, false)
		if err != nil {
			u.internalError(w, r, "reading the latest schema version", err)
			return nil
		}
		res.Diff, res.Removed, res.Added = lineDiff(prettySchema(latest.Text), prettySchema(f.Text))
		if res.Existing, err = u.existing(r, subject, vs, f); err != nil {
			u.internalError(w, r, "reading schema versions", err)
			return nil
		}
	}
	res.Form.Checked = f.fingerprint(subject)
	return res
}

// existing returns the newest of the versions vs of subject that holds the
// schema of f, as the registry stores and compares it (registry
// .CanonicalText), or 0.
func (u *ui) existing(r *http.Request, subject string, vs []registry.Version, f registerForm) (int, error) {
	text, err := registry.CanonicalText(f.Format, f.Text)
	if err != nil {
		return 0, nil // not a schema: the check said why
	}
	for i := len(vs) - 1; i >= 0; i-- {
		s, err := u.opts.Schemas.Get(r.Context(), subject, vs[i].Version, false)
		switch {
		case notFound(err):
		case err != nil:
			return 0, err
		case s.Format == f.Format && s.Text == text:
			return vs[i].Version, nil
		}
	}
	return 0, nil
}

// schemaRegister registers the schema a check was made of, and shows the
// subject with it.
func (u *ui) schemaRegister(w http.ResponseWriter, r *http.Request) {
	f, problem, ok := u.schemaForm(w, r)
	if !ok {
		return
	}
	subject := r.PathValue("subject")
	if problem == "" && f.Checked != f.fingerprint(subject) {
		problem = "The schema, its type or its label changed since it was checked: check it again."
	}
	if problem != "" {
		if res := u.check(w, r, subject, f, problem); res != nil {
			u.renderFragment(w, r, "subject", "register-result", res)
		}
		return
	}
	before, err := u.opts.Schemas.Versions(r.Context(), subject, false)
	if err != nil && !notFound(err) {
		u.internalError(w, r, "listing schema versions", err)
		return
	}
	s, err := u.opts.SchemaChanges.Register(r.Context(), registry.RegisterRequest{
		Subject: subject, Format: f.Format, Schema: f.Text, Label: f.Label,
	})
	var incompatible *registry.IncompatibleError
	switch {
	case errors.As(err, &incompatible):
		// Another version came in since the check.
		res := u.check(w, r, subject, f, "")
		if res != nil {
			res.Problem = "The registry refused it: it no longer passes " + string(incompatible.Level) + " against the subject's versions."
			u.renderFragment(w, r, "subject", "register-result", res)
		}
		return
	case errors.Is(err, registry.ErrInvalidSchema), errors.Is(err, registry.ErrInvalidLabel), errors.Is(err, registry.ErrOperationNotPermitted):
		if res := u.check(w, r, subject, f, "The registry refused it: "+err.Error()+"."); res != nil {
			u.renderFragment(w, r, "subject", "register-result", res)
		}
		return
	case err != nil:
		u.internalError(w, r, "registering a schema", err)
		return
	}
	audit.Recorded(r.Context()) // SchemaChanges audits schema.register
	to := url.Values{"to": {strconv.Itoa(s.Version.Version)}}
	if len(before) > 0 {
		to.Set("from", strconv.Itoa(before[len(before)-1].Version))
	}
	redirect(w, r, "/schemas/"+url.PathEscape(subject)+"?"+to.Encode())
}

// schemaState moves a version to the rollout state of the form.
func (u *ui) schemaState(w http.ResponseWriter, r *http.Request) {
	if !u.mayAdminister(r) {
		u.errorPage(w, r, http.StatusForbidden, "This needs the admin role.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	subject := r.PathValue("subject")
	version, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || version < 1 {
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no version %q of %q.", r.PathValue("version"), subject))
		return
	}
	state, err := registry.ParseState(r.PostForm.Get("state"))
	if err != nil {
		u.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a rollout state: registered, enforced or deprecated.", r.PostForm.Get("state")))
		return
	}
	_, err = u.opts.SchemaChanges.SetState(r.Context(), subject, version, state)
	switch {
	case notFound(err):
		u.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no version %d of %q.", version, subject))
		return
	case errors.Is(err, registry.ErrOperationNotPermitted), errors.Is(err, registry.ErrInvalidState):
		u.errorPage(w, r, http.StatusConflict, "The registry refused it: "+err.Error()+".")
		return
	case err != nil:
		u.internalError(w, r, "changing a rollout state", err)
		return
	}
	audit.Recorded(r.Context()) // SchemaChanges audits schema.state
	redirect(w, r, "/schemas/"+url.PathEscape(subject))
}
