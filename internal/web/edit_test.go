package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// breakout is a payload that tries to leave the textarea.
const breakout = `{"note":"</textarea><script>alert(1)</script><img src=x onerror=alert(2)>"}`

func TestEditPayload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Not JSON (a stray comma): shown as it is, not indented.
	e.seed(&quarantine.Payload{Value: []byte("\n" + breakout + ",")})
	h := e.handler(func(o *Options) {
		o.Reprocess = e.service()
		o.Principal = func(context.Context) (string, string) { return "ana", "operator" }
	})

	r := get(t, h, "/quarantine/aaa")
	require.Contains(t, r.body, `href="/quarantine/aaa/edit" id="action-edit"`)
	require.NotContains(t, r.body, "corrected-badge")

	// The payload is text in the textarea, whatever it holds.
	r = get(t, h, "/quarantine/aaa/edit")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, 1, strings.Count(r.body, "</textarea>"), "the payload cannot close the textarea")
	require.NotContains(t, r.body, "<script>alert")
	require.NotContains(t, r.body, "<img")
	require.Contains(t, r.body, `aria-label="payload">`+"\n\n"+
		`{&#34;note&#34;:&#34;&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#34;},</textarea>`,
		"escaped, and the payload's leading newline survives the one HTML drops")
	require.Contains(t, r.body, `action="/quarantine/aaa/edit"`)

	// Save: stored as the logged-in user with the reason; CRLF from the
	// browser comes back LF.
	fixed := "{\r\n  \"user_id\": \"USER000001\"\r\n}"
	r = post(t, h, "/quarantine/aaa/edit", url.Values{"payload": {fixed}, "reason": {"typo in user_id"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Equal(t, "/quarantine/aaa", r.header.Get("Location"))
	got, err := e.meta.Correction(context.Background(), "aaa")
	require.NoError(t, err)
	require.Equal(t, "{\n  \"user_id\": \"USER000001\"\n}", string(got))
	require.True(t, e.get("aaa").Corrected)
	ev := e.events(quarantine.AuditTarget("aaa"))[0]
	require.Equal(t, [4]string{quarantine.ActionEdit, "ana", "operator", "typo in user_id"}, [4]string{ev.Action, ev.Actor, ev.Role, ev.Reason})

	// The record shows both payloads, and the editor the corrected one.
	r = get(t, h, "/quarantine/aaa")
	require.Contains(t, r.body, `id="corrected-badge">corrected<`)
	require.Contains(t, r.body, `id="corrected-payload"`)
	require.Contains(t, r.body, "Original payload")
	require.Contains(t, r.body, "&lt;/textarea&gt;", "the original is still shown")
	require.Contains(t, r.body, `<span class="str">&#34;USER000001&#34;</span>`)
	require.Contains(t, get(t, h, "/quarantine/aaa/edit").body, `{
  &#34;user_id&#34;: &#34;USER000001&#34;
}</textarea>`)
}

func TestEditPayloadLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(nil)
	// ccc's payload is not in the payload store (yet: a spool holds it).
	e.put([]quarantine.Entry{{
		ID: "ccc", SourceTopic: rawTopic, QuarantinedAt: at, ErrorType: record.ParseError, Status: quarantine.StatusQuarantined,
		Payload: quarantine.PayloadRef{Segment: "seg-spooled", Length: 2},
	}}, []*quarantine.Payload{nil})
	svc := e.service(func(o *reprocess.Options) { o.MaxPayloadBytes = 10 })
	h := e.handler(func(o *Options) { o.Reprocess = svc })
	ctx := context.Background()
	uncorrected := func() {
		t.Helper()
		_, err := e.meta.Correction(ctx, "aaa")
		require.ErrorIs(t, err, quarantine.ErrNotFound)
		require.False(t, e.get("aaa").Corrected)
	}

	r := post(t, h, "/quarantine/aaa/edit", url.Values{"payload": {"0123456789x"}, "reason": {"r"}})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	require.Contains(t, r.body, "The payload is 11 bytes; the limit is 10 bytes (limits.max_bytes). Nothing was saved.")
	require.Contains(t, r.body, "0123456789x</textarea>", "what was sent stays in the editor")
	require.Contains(t, r.body, `name="reason" value="r"`)
	r = post(t, h, "/quarantine/aaa/edit", url.Values{"payload": {strings.Repeat("x", 100<<10)}})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	require.Contains(t, r.body, "The payload is over the 10-byte limit")
	uncorrected()
	require.Equal(t, http.StatusSeeOther, post(t, h, "/quarantine/aaa/edit", url.Values{"payload": {"0123456789"}}).status)
	got, err := svc.Correction(ctx, "aaa")
	require.NoError(t, err)
	require.Equal(t, "0123456789", string(got))

	// Binary payloads are not offered for editing.
	r = get(t, h, "/quarantine/bbb")
	require.NotContains(t, r.body, "action-edit")
	require.Contains(t, r.body, "Editing is for text payloads; this one is binary.")
	require.Equal(t, http.StatusUnprocessableEntity, get(t, h, "/quarantine/bbb/edit").status)
	require.Equal(t, http.StatusUnprocessableEntity, post(t, h, "/quarantine/bbb/edit", url.Values{"payload": {"x"}}).status)

	// A payload the store does not have (yet) cannot be edited either.
	r = get(t, h, "/quarantine/ccc")
	require.Contains(t, r.body, "The payload is not in the payload store")
	require.NotContains(t, r.body, "action-edit")
	require.NotContains(t, r.body, "edit-text-only")
	require.Equal(t, http.StatusConflict, get(t, h, "/quarantine/ccc/edit").status)

	// Only quarantined or failed_again records can change.
	require.NoError(t, svc.Discard(ctx, "aaa", quarantine.Change{Actor: "ana", Reason: "test data"}))
	require.Equal(t, http.StatusConflict, get(t, h, "/quarantine/aaa/edit").status)
	require.Equal(t, http.StatusConflict, post(t, h, "/quarantine/aaa/edit", url.Values{"payload": {"{}"}}).status)
	require.NotContains(t, get(t, h, "/quarantine/aaa").body, "action-edit")
	require.Equal(t, http.StatusNotFound, get(t, h, "/quarantine/nope/edit").status)
}

func TestViewersCannotEdit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(nil)
	h := e.handler(func(o *Options) {
		o.Reprocess = e.service()
		o.MayChange = func(context.Context) bool { return false }
	})
	require.NotContains(t, get(t, h, "/quarantine/aaa").body, "action-edit")
	require.Equal(t, http.StatusForbidden, get(t, h, "/quarantine/aaa/edit").status)
	for _, target := range []string{"/quarantine/aaa/edit", "/quarantine/aaa/discard", "/quarantine/aaa/reprocess", "/reprocess/start"} {
		r := post(t, h, target, url.Values{"payload": {"{}"}, "reason": {"x"}, "target": {"clean"}})
		require.Equal(t, http.StatusForbidden, r.status, target)
	}
	// Nothing changed: no correction, no status, no job, no audit event.
	aaa := e.get("aaa")
	require.Equal(t, quarantine.StatusQuarantined, aaa.Status)
	require.False(t, aaa.Corrected)
	jobs, err := e.meta.UnfinishedJobs(context.Background())
	require.NoError(t, err)
	require.Empty(t, jobs)
	require.Empty(t, e.events(""))
}

type roleKey struct{}

// TestResumeOnlyForOperators: the dashboard's stream carries the Resume
// button to users who may change things, and not to the others.
func TestResumeOnlyForOperators(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "circuit_state"}, []string{"topic"})
	reg.MustRegister(g)
	g.WithLabelValues("raw-events").Set(1) // open
	_, e := fixture(t)
	sampler, err := live.New(live.Options{Gatherer: reg, Recent: e.meta})
	require.NoError(t, err)
	h := e.handler(func(o *Options) {
		o.Live = sampler
		o.Actions.ResumeCircuit = true
		o.MayChange = func(ctx context.Context) bool { return ctx.Value(roleKey{}) == "operator" }
	})
	const button = `hx-post="/api/v1/circuit/raw-events/resume"`
	for _, role := range []string{"viewer", "operator"} {
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), roleKey{}, role), 300*time.Millisecond)
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, EventsPath, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req) // returns when ctx ends
		cancel()
		require.Contains(t, rec.Body.String(), "event: circuits")
		require.Equal(t, role == "operator", strings.Contains(rec.Body.String(), button), role)

		page := httptest.NewRecorder()
		h.ServeHTTP(page, httptest.NewRequestWithContext(context.WithValue(context.Background(), roleKey{}, role), http.MethodGet, "/", nil))
		require.Equal(t, role == "operator", strings.Contains(page.Body.String(), button), role)
	}
}
