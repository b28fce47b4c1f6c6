package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

func TestPrettyAndCompactKeepTheDocument(t *testing.T) {
	t.Parallel()
	// Member order, big numbers and escapes as sent; only whitespace moves.
	in := `{"z":1,"a":{"n":12345678901234567890.50,"e":[]},"s":"\u00e9<\/x>","k":[true,null,{}]}`
	pretty := prettyText([]byte(in))
	require.Equal(t, `{
  "z": 1,
  "a": {
    "n": 12345678901234567890.50,
    "e": []
  },
  "s": "\u00e9<\/x>",
  "k": [
    true,
    null,
    {}
  ]
}`, pretty)
	require.Equal(t, in, compactJSON(pretty))
	for _, text := range []string{`{"a":`, "plain text\nline 2", ""} {
		require.Equal(t, text, prettyText([]byte(text)), "not JSON: as it is")
		require.Equal(t, text, compactJSON(text))
	}
}

// TestCheckLines: each violation is placed on the editor line of its
// field, or of the nearest value present, whatever the text's layout.
func TestCheckLines(t *testing.T) {
	t.Parallel()
	violations := []record.Violation{
		{Type: record.PatternMismatch, Field: "/user_id"},
		{Type: record.MissingField, Field: "/ctx/country"}, // missing: its object
		{Type: record.TypeMismatch, Field: "/tags/1"},
		{Type: record.SchemaViolation, Field: ""}, // the whole document
		{Type: record.EnumViolation, Field: "/nope"},
	}
	for name, c := range map[string]struct {
		text  string
		lines []int
	}{
		"indented":  {"{\n  \"user_id\": \"bob\",\n  \"ctx\": {\n    \"ip\": \"x\"\n  },\n  \"tags\": [\n    \"a\",\n    2\n  ]\n}", []int{2, 3, 8, 1, 1}},
		"one line":  {`{"user_id":"bob","ctx":{"ip":"x"},"tags":["a",2]}`, []int{1, 1, 1, 1, 1}},
		"hand laid": {"{\"tags\": [\"a\",\n   2], \"ctx\":\n{}, \"user_id\"\n: \"bob\"}", []int{3, 2, 2, 1, 1}},
		"not JSON":  {`{"user_id": bob}`, []int{0, 0, 0, 0, 0}},
	} {
		v := newCheckView(c.text, reprocess.Check{Subject: "s", Version: 2, Violations: violations})
		var got []int
		for _, e := range v.Errors {
			got = append(got, e.Line)
		}
		require.Equal(t, c.lines, got, name)
	}
}

func TestEditValidate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(&quarantine.Payload{Value: []byte(`{"user_id":"bob","event_type":"view"}`)})
	h := e.handler(func(o *Options) {
		o.Reprocess = e.service()
		o.Principal = func(context.Context) (string, string) { return "ana", "operator" }
	})

	// The editor holds the payload indented, and offers to save it back
	// on one line, as it came.
	r := get(t, h, "/quarantine/aaa/edit")
	require.Contains(t, r.body, "aria-label=\"payload\">\n{\n  &#34;user_id&#34;: &#34;bob&#34;,\n  &#34;event_type&#34;: &#34;view&#34;\n}</textarea>")
	require.Contains(t, r.body, `id="edit-compact" checked`)
	require.Contains(t, r.body, `<script src="/static/edit.js" defer></script>`)

	// Validate (htmx): the verdict alone, each violation on its line.
	bad := "{\n  \"user_id\": \"" + hostile + "\",\n  \"event_type\": \"jump\"\n}"
	r = post(t, h, "/quarantine/aaa/validate", url.Values{"payload": {bad}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotContains(t, r.body, "<html")
	require.Contains(t, r.body, `Fails <strong>user_event</strong> version 1: 2 violations.`)
	require.Contains(t, r.body, `<li data-line="2"><span class="badge type">PATTERN_MISMATCH</span> <a href="#edit-payload" class="goto" data-line="2">line 2</a> <code class="field">/user_id</code>`)
	require.Contains(t, r.body, `<li data-line="3"><span class="badge type">ENUM_VIOLATION</span>`)
	require.NotContains(t, r.body, "<script>alert", "the messages quote the payload as text")

	good := "{\n  \"user_id\": \"USER000001\",\n  \"event_type\": \"view\"\n}"
	r = post(t, h, "/quarantine/aaa/validate", url.Values{"payload": {good}}, "HX-Request", "true")
	require.Contains(t, r.body, `Valid against <strong>user_event</strong> version 1, the current schema`)

	// Without htmx: the whole page, the text kept.
	r = post(t, h, "/quarantine/aaa/validate", url.Values{"payload": {bad}, "reason": {"r1"}, "compact": {"1"}})
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `id="check-errors"`)
	require.Contains(t, r.body, "&#34;event_type&#34;: &#34;jump&#34;\n}</textarea>")
	require.Contains(t, r.body, `name="reason" value="r1"`)

	// Validating saved nothing.
	_, err := e.meta.Correction(context.Background(), "aaa")
	require.ErrorIs(t, err, quarantine.ErrNotFound)
	require.Empty(t, e.events(quarantine.AuditTarget("aaa")))

	// Saving with "one line" stores compact JSON, member order kept.
	r = post(t, h, "/quarantine/aaa/edit", url.Values{"payload": {strings.ReplaceAll(good, "\n", "\r\n")}, "compact": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	got, err := e.meta.Correction(context.Background(), "aaa")
	require.NoError(t, err)
	require.Equal(t, `{"user_id":"USER000001","event_type":"view"}`, string(got))

	// Viewers may not validate, as they may not edit; nor may anyone an
	// unknown record, or too much.
	viewer := e.handler(func(o *Options) {
		o.Reprocess = e.service()
		o.MayChange = func(context.Context) bool { return false }
	})
	require.Equal(t, http.StatusForbidden, post(t, viewer, "/quarantine/aaa/validate", url.Values{"payload": {good}}).status)
	require.Equal(t, http.StatusNotFound, post(t, h, "/quarantine/nope/validate", url.Values{"payload": {good}}).status)
	small := e.handler(func(o *Options) { o.Reprocess = e.service(func(o *reprocess.Options) { o.MaxPayloadBytes = 10 }) })
	r = post(t, small, "/quarantine/aaa/validate", url.Values{"payload": {good}})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
}
