package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/registryapi"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	regsqlite "github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// schemaFixture is the UI over a real registry holding user_event v1 (the
// built-in schema) and v2 (one more event type), with the registry API's
// audited changes; the user is root, an admin, unless admin says no.
func schemaFixture(t *testing.T, admin bool) (http.Handler, *registry.Registry, *env, string) {
	t.Helper()
	st, err := regsqlite.New(regsqlite.Options{Path: filepath.Join(t.TempDir(), "registry.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	reg, err := registry.New(registry.Options{Store: st})
	require.NoError(t, err)
	v1, err := os.ReadFile("../config/defaults/user_event.schema.json")
	require.NoError(t, err)
	v2 := strings.Replace(string(v1), `"enum": ["view", "click", "purchase"]`, `"enum": ["view", "click", "purchase", "scroll"]`, 1)
	for _, src := range []string{string(v1), v2} {
		_, err := reg.Register(context.Background(), registry.RegisterRequest{Subject: "user_event", Format: schema.FormatJSON, Schema: src})
		require.NoError(t, err)
	}
	e := newEnv(t)
	api, err := registryapi.New(registryapi.Options{Registry: reg, Audit: e.meta.AuditLog()})
	require.NoError(t, err)
	h := e.handler(func(o *Options) {
		o.Schemas, o.SchemaChanges = reg, api
		o.MayAdminister = func(context.Context) bool { return admin }
	})
	// What the auth middleware does: the caller, and an audit scope.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := httpapi.WithPrincipal(r.Context(), httpapi.Principal{Name: "root", Role: "admin"})
		ctx, _ = audit.WithScope(ctx)
		h.ServeHTTP(w, r.WithContext(ctx))
	}), reg, e, v2
}

// TestSchemaVerdictFollowsTheLevel: adding an enum value is compatible
// under BACKWARD and breaking under FORWARD, and the page says which.
func TestSchemaVerdictFollowsTheLevel(t *testing.T) {
	t.Parallel()
	h, reg, _, _ := schemaFixture(t, true)
	r := get(t, h, "/schemas/user_event")
	require.Contains(t, r.body, `<span class="badge ok" id="verdict-badge">compatible under BACKWARD</span>`)
	require.Contains(t, r.body, "enum value &#39;scroll&#39; added at /event_type: readers on the new version still accept every document the old version allows")
	require.Contains(t, r.body, "enum value &#39;scroll&#39; added at /event_type: readers on the old version reject it")
	require.Contains(t, r.body, "breaks the FORWARD reading, which BACKWARD does not check")
	require.Contains(t, r.body, "#/properties/event_type/enum")
	require.NotContains(t, r.body, "allOf", "paths are the user's schema's")

	_, err := reg.SetCompatibility(context.Background(), "user_event", "FORWARD")
	require.NoError(t, err)
	r = get(t, h, "/schemas/user_event")
	require.Contains(t, r.body, `<span class="badge bad" id="verdict-badge">breaking under FORWARD</span> 1 change breaks it`)
	require.Regexp(t, `<li class="breaking">\s*<span class="summary">enum value &#39;scroll&#39; added at /event_type: readers on the old version reject it</span>`, r.body)
}

func TestSchemaRegister(t *testing.T) {
	t.Parallel()
	h, reg, e, v2 := schemaFixture(t, true)
	ctx := context.Background()

	// The form starts with the latest version.
	r := get(t, h, "/schemas/user_event")
	require.Contains(t, r.body, `id="register-form"`)
	require.Contains(t, html.UnescapeString(r.body), `"scroll"`)

	// A compatible change: checked, with a diff from the latest, and a
	// button that registers exactly that.
	v3 := strings.Replace(v2, `"title": "user_event",`, `"title": "user_event", "description": "one user action",`, 1)
	form := url.Values{"format": {"JSON"}, "schema": {strings.ReplaceAll(v3, "\n", "\r\n")}, "label": {"1.2.0"}}
	r = post(t, h, "/schemas/user_event/check", form, "HX-Request", "true")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Contains(t, r.body, "compatible under BACKWARD")
	require.Contains(t, r.body, "DESCRIPTION_CHANGED")
	require.Contains(t, r.body, `<tr class="add">`, "a diff from the latest version")
	require.Contains(t, r.body, `id="register-submit"`)
	require.Contains(t, r.body, "Register as v3")
	checked := regexp.MustCompile(`name="checked" value="([0-9a-f]{64})"`).FindStringSubmatch(r.body)
	require.NotNil(t, checked)
	vs, err := reg.Versions(ctx, "user_event", false)
	require.NoError(t, err)
	require.Len(t, vs, 2, "a check registers nothing")

	// Registering something else than what was checked is refused.
	stale := url.Values{"format": {"JSON"}, "schema": {v3 + " "}, "label": {"1.2.0"}, "checked": {checked[1]}}
	r = post(t, h, "/schemas/user_event/register", stale, "HX-Request", "true")
	require.Contains(t, r.body, "changed since it was checked: check it again")
	form.Set("checked", checked[1])
	r = post(t, h, "/schemas/user_event/register", form, "HX-Request", "true")
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	require.Equal(t, "/schemas/user_event?from=2&to=3", r.header.Get("HX-Redirect"))
	got, err := reg.Get(ctx, "user_event", 3, false)
	require.NoError(t, err)
	require.Equal(t, [2]string{"1.2.0", string(registry.StateRegistered)}, [2]string{got.Label, string(got.State)})
	require.NotContains(t, got.Text, "\r", "line breaks are the schema's")
	ev := e.events("schema/user_event/3")
	require.Len(t, ev, 1)
	require.Equal(t, [2]string{"schema.register", "root"}, [2]string{ev[0].Action, ev[0].Actor})

	// A breaking change: checked, explained, and no way to register it.
	breaking := strings.Replace(v3, `"required": ["user_id", "event_type", "timestamp"]`, `"required": ["user_id", "event_type", "timestamp", "country"], "additionalProperties": false`, 1)
	r = post(t, h, "/schemas/user_event/check", url.Values{"format": {"JSON"}, "schema": {breaking}}, "HX-Request", "true")
	require.Contains(t, r.body, "breaking under BACKWARD")
	require.Contains(t, r.body, `id="register-refused"`)
	require.NotContains(t, r.body, `id="register-submit"`)

	// The same schema as an existing version says so.
	r = post(t, h, "/schemas/user_event/check", url.Values{"format": {"JSON"}, "schema": {v2}}, "HX-Request", "true")
	require.Contains(t, r.body, "This schema is already v2 of user_event")
}

func TestSchemaRegisterUploadAndProblems(t *testing.T) {
	t.Parallel()
	h, _, _, v2 := schemaFixture(t, true)

	// A file replaces the pasted text.
	v3 := strings.Replace(v2, `"title": "user_event",`, `"title": "user_event v3",`, 1)
	r := multipartPost(t, h, "/schemas/user_event/check", map[string]string{"format": "JSON", "schema": "ignored"}, "v3.json", []byte(v3))
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Contains(t, r.body, "TITLE_CHANGED")
	require.Contains(t, r.body, "Register as v3")

	for _, tc := range []struct {
		name string
		form map[string]string
		file []byte
		want string
	}{
		{"not text", map[string]string{"format": "JSON"}, []byte{0xff, 0xfe, '{'}, "is not text (UTF-8)"},
		{"not a schema", map[string]string{"format": "JSON", "schema": `{"type": "strnig"}`}, nil, "The schema is not valid"},
		{"no type", map[string]string{"format": "XML", "schema": "{}"}, nil, "Choose the schema&#39;s type"},
		{"nothing", map[string]string{"format": "JSON", "schema": "  "}, nil, "Paste a schema, or choose a file."},
		{"hostile", map[string]string{"format": "JSON", "schema": `{"title": "<script>alert(1)</script>"}`}, nil, "&lt;script&gt;alert(1)&lt;/script&gt;"},
	} {
		r := multipartPost(t, h, "/schemas/user_event/check", tc.form, "s.json", tc.file)
		require.Equal(t, http.StatusOK, r.status, tc.name)
		require.Contains(t, r.body, tc.want, tc.name)
		require.NotContains(t, r.body, "<script>alert", tc.name)
	}

	big := multipartPost(t, h, "/schemas/user_event/check", map[string]string{"format": "JSON"}, "big.json", bytes.Repeat([]byte(" "), 5<<20))
	require.Equal(t, http.StatusRequestEntityTooLarge, big.status)
}

func multipartPost(t *testing.T, h http.Handler, target string, fields map[string]string, filename string, file []byte) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if file != nil {
		fw, err := mw.CreateFormFile("file", filename)
		require.NoError(t, err)
		_, err = fw.Write(file)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	req := httptest.NewRequest(http.MethodPost, target, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Result().Header, rec.Body.String()}
}

func TestSchemaRolloutStates(t *testing.T) {
	t.Parallel()
	h, reg, e, _ := schemaFixture(t, true)
	ctx := context.Background()
	r := get(t, h, "/schemas/user_event")
	require.Contains(t, r.body, `id="enforce-2"`)
	require.Contains(t, r.body, `id="deprecate-1"`)

	r = post(t, h, "/schemas/user_event/versions/2/state", url.Values{"state": {"enforced"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Equal(t, "/schemas/user_event", r.header.Get("Location"))
	r = post(t, h, "/schemas/user_event/versions/1/state", url.Values{"state": {"deprecated"}}, "HX-Request", "true")
	require.Equal(t, "/schemas/user_event", r.header.Get("HX-Redirect"))
	for v, want := range map[int]registry.State{1: registry.StateDeprecated, 2: registry.StateEnforced} {
		got, err := reg.Get(ctx, "user_event", v, false)
		require.NoError(t, err)
		require.Equal(t, want, got.State)
	}
	ev := e.events("schema/user_event/2")
	require.Len(t, ev, 1)
	require.Equal(t, [3]string{"schema.state", "root", `{"from":"registered","to":"enforced"}`}, [3]string{ev[0].Action, ev[0].Actor, string(ev[0].Details)})

	body := get(t, h, "/schemas/user_event").body
	require.NotContains(t, body, `id="enforce-2"`, "enforced already")
	require.Contains(t, body, `id="deprecate-2"`)

	for _, tc := range []struct {
		path, state string
		status      int
	}{
		{"/schemas/user_event/versions/2/state", "live", http.StatusBadRequest},
		{"/schemas/user_event/versions/9/state", "enforced", http.StatusNotFound},
		{"/schemas/user_event/versions/x/state", "enforced", http.StatusNotFound},
		{"/schemas/nope/versions/1/state", "enforced", http.StatusNotFound},
	} {
		require.Equal(t, tc.status, post(t, h, tc.path, url.Values{"state": {tc.state}}).status, fmt.Sprint(tc))
	}
}

func TestSchemaChangesOnlyForAdmins(t *testing.T) {
	t.Parallel()
	h, reg, _, v2 := schemaFixture(t, false)
	body := get(t, h, "/schemas/user_event").body
	require.NotContains(t, body, `id="register-form"`)
	require.NotContains(t, body, `id="enforce-`)
	require.Contains(t, body, `id="compare"`, "the comparison is for everyone")
	require.Equal(t, http.StatusForbidden, post(t, h, "/schemas/user_event/check", url.Values{"format": {"JSON"}, "schema": {v2}}).status)
	require.Equal(t, http.StatusForbidden, post(t, h, "/schemas/user_event/register", url.Values{"format": {"JSON"}, "schema": {v2}}).status)
	require.Equal(t, http.StatusForbidden, post(t, h, "/schemas/user_event/versions/2/state", url.Values{"state": {"enforced"}}).status)
	got, err := reg.Get(context.Background(), "user_event", 2, false)
	require.NoError(t, err)
	require.Equal(t, registry.StateRegistered, got.State)
}

func TestLineDiff(t *testing.T) {
	t.Parallel()
	ops := func(lines []diffLine) string {
		var b strings.Builder
		for _, l := range lines {
			if l.Op == "…" {
				fmt.Fprintf(&b, "…%d\n", l.Skipped)
				continue
			}
			fmt.Fprintf(&b, "%s%s %d/%d\n", l.Op, l.Text, l.Old, l.New)
		}
		return b.String()
	}
	lines, removed, added := lineDiff("a\nb\nc\n", "a\nx\nc\nd\n")
	require.Equal(t, " a 1/1\n-b 2/0\n+x 0/2\n c 3/3\n+d 0/4\n", ops(lines))
	require.Equal(t, [2]int{1, 2}, [2]int{removed, added})

	lines, _, _ = lineDiff("same\n", "same\n")
	require.Equal(t, " same 1/1\n", ops(lines), "no change: the text, whole")

	long := strings.Repeat("x\n", 20)
	lines, _, _ = lineDiff("top\n"+long+"end\n", "TOP\n"+long+"end\n")
	require.Equal(t, "-top 1/0\n+TOP 0/1\n x 2/2\n x 3/3\n x 4/4\n…18\n", ops(lines), "unchanged runs fold")

	// Too many lines apart for the table: one block out, one in.
	var a, b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	lines, removed, added = lineDiff(a.String(), b.String())
	require.Equal(t, [2]int{3000, 3000}, [2]int{removed, added})
	require.Equal(t, "-", lines[0].Op)
	require.Equal(t, "+", lines[len(lines)-1].Op)
}
