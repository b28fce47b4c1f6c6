package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	regsqlite "github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

var (
	_ QuarantineReader = quarantine.MetadataStore(nil)
	_ PayloadReader    = quarantine.PayloadStore(nil)
	_ SchemaReader     = (*registry.Registry)(nil)
)

// store is an in-memory quarantine: entries by id, payloads by segment.
type store struct {
	entries  []quarantine.Entry
	payloads map[string]quarantine.Payload
	filters  []quarantine.Filter
}

func (s *store) Get(_ context.Context, id string) (quarantine.Entry, error) {
	for _, e := range s.entries {
		if e.ID == id {
			return e, nil
		}
	}
	return quarantine.Entry{}, quarantine.ErrNotFound
}

func (s *store) List(_ context.Context, f quarantine.Filter) (quarantine.Page, error) {
	s.filters = append(s.filters, f)
	if f.Cursor == "bad" {
		return quarantine.Page{}, quarantine.ErrBadCursor
	}
	var p quarantine.Page
	for _, e := range s.entries {
		if f.ErrorType == "" || e.ErrorType == f.ErrorType {
			p.Entries = append(p.Entries, e)
		}
	}
	if len(p.Entries) > 1 && f.Cursor == "" {
		p.Entries, p.NextCursor = p.Entries[:1], "c1"
	}
	return p, nil
}

func (s *store) Read(_ context.Context, ref quarantine.PayloadRef) (quarantine.Payload, error) {
	p, ok := s.payloads[ref.Segment]
	if !ok {
		return quarantine.Payload{}, quarantine.ErrNotFound
	}
	return p, nil
}

type history []HistoryEvent

func (h history) History(context.Context, string) ([]HistoryEvent, error) { return h, nil }

const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>`

func fixture(t *testing.T, mod ...func(*Options)) (http.Handler, *store) {
	t.Helper()
	s := &store{payloads: map[string]quarantine.Payload{}}
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	s.entries = []quarantine.Entry{
		{
			ID: "aaa", SourceTopic: "raw-events", SourceOffset: 1, Key: []byte(hostile), QuarantinedAt: at,
			Subject: "user_event", SchemaVersion: 1, ErrorType: record.PatternMismatch, ErrorField: "/user_id",
			Errors: []record.Violation{
				{Type: record.PatternMismatch, Field: "/user_id", Keyword: "pattern", Message: "bad " + hostile},
				{Type: record.MissingField, Field: "/nested/x", Keyword: "required", Message: "missing"},
			},
			Payload: quarantine.PayloadRef{Segment: "aaa"}, Status: quarantine.StatusQuarantined,
		},
		{
			ID: "bbb", SourceTopic: "raw-events", SourceOffset: 2, QuarantinedAt: at, ErrorType: record.ParseError,
			Errors:  []record.Violation{{Type: record.ParseError, Message: "not JSON"}},
			Payload: quarantine.PayloadRef{Segment: "bbb"}, Status: quarantine.StatusQuarantined,
		},
	}
	s.payloads["aaa"] = quarantine.Payload{
		Value:   []byte(`{"user_id":"` + strings.ReplaceAll(hostile, `"`, `\"`) + `","nested":{},"list":[1,{"a":true}],"n":null}`),
		Headers: []record.Header{{Key: hostile, Value: []byte(hostile)}, {Key: "bin", Value: []byte{0, 1, 0xff}}},
	}
	s.payloads["bbb"] = quarantine.Payload{Value: []byte{0xde, 0xad, '<', 0}}
	sampler, err := live.New(live.Options{Gatherer: prometheus.NewRegistry(), Recent: s})
	require.NoError(t, err)
	opts := Options{Quarantine: s, Payloads: s, Live: sampler}
	for _, m := range mod {
		m(&opts)
	}
	h, err := New(opts)
	require.NoError(t, err)
	return h, s
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, target string, hdr ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return response{rec.Code, rec.Result().Header, string(body)}
}

func TestNewRequires(t *testing.T) {
	t.Parallel()
	_, err := New(Options{})
	require.ErrorContains(t, err, "Quarantine is required")
}

func TestPagesAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	h, _ := fixture(t)
	for _, tc := range []struct {
		target string
		status int
		want   string
	}{
		{"/", http.StatusOK, `sse-connect="/ui/events"`},
		{"/quarantine", http.StatusOK, `id="quarantine-table"`},
		{"/quarantine/aaa", http.StatusOK, `id="payload"`},
		{"/quarantine/bbb", http.StatusOK, `class="payload binary"`},
		{"/quarantine/nope", http.StatusNotFound, "No quarantined record has the id &#34;nope&#34;."},
		{"/nope", http.StatusNotFound, "There is no page at /nope."},
		{"/schemas", http.StatusNotFound, ""}, // no registry: no schema pages
	} {
		t.Run(tc.target, func(t *testing.T) {
			t.Parallel()
			r := get(t, h, tc.target)
			require.Equal(t, tc.status, r.status, r.body)
			require.Contains(t, r.body, tc.want)
			require.Equal(t, ContentSecurityPolicy, r.header.Get("Content-Security-Policy"))
			require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
			require.Equal(t, "DENY", r.header.Get("X-Frame-Options"))
			require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
			require.NotContains(t, r.body, "nav-schemas")
			require.NotContains(t, r.body, "style=", "the CSP forbids inline styles")
		})
	}
	r := get(t, h, "/static/vendor/htmx.min.js")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.header.Get("Content-Type"), "javascript")
}

// TestHostileInputIsEscaped checks the markup itself: no tag from the data
// reaches the page (the browser test checks that nothing runs).
func TestHostileInputIsEscaped(t *testing.T) {
	t.Parallel()
	h, _ := fixture(t)
	for _, target := range []string{"/quarantine/aaa", "/quarantine", "/"} {
		r := get(t, h, target)
		require.Equal(t, http.StatusOK, r.status)
		require.NotContains(t, r.body, "<script>alert")
		require.NotContains(t, r.body, "<img")
		require.Equal(t, 2, strings.Count(r.body, "<script"), "only the page's own scripts")
	}
	r := get(t, h, "/quarantine/aaa")
	require.Contains(t, r.body, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;")
	require.Contains(t, r.body, "0001ff <small", "a binary header value is hex")
}

func TestPayloadView(t *testing.T) {
	t.Parallel()
	errs := []record.Violation{
		{Field: "/list/1/a"}, // a value in a nested array
		{Field: "/missing"},  // missing at the root: marks the root object
		{Field: "/list/7"},   // beyond the array: marks the array
		{Field: ""},          // the whole payload: the root too
		{Field: "no-slash"},  // not a pointer: the root
	}
	v := newPayloadView([]byte(`{"a~/b":"<x>","list":[1,{"a":true}],"e":[],"o":{}}`), errs)
	require.Equal(t, "json", v.Kind)
	var text []string
	marks := map[string][]int{}
	for _, l := range v.Lines {
		s := l.Indent
		if l.Key != "" {
			s += l.Key + ": "
		}
		s += l.Value
		if l.Comma {
			s += ","
		}
		text = append(text, s)
		if len(l.Errors) > 0 {
			marks[l.Path] = l.Errors
		}
	}
	require.Equal(t, []string{
		`{`,
		`  "a~/b": "<x>",`,
		`  "list": [`,
		`    1,`,
		`    {`,
		`      "a": true`,
		`    }`,
		`  ],`,
		`  "e": [],`,
		`  "o": {}`,
		`}`,
	}, text)
	require.Equal(t, "/a~0~1b", v.Lines[1].Path)
	require.Equal(t, map[string][]int{"/list/1/a": {1}, "": {2, 4, 5}, "/list": {3}}, marks)
	require.Empty(t, v.Unplaced)

	for _, tc := range []struct {
		name, kind string
		in         []byte
	}{
		{"text", "text", []byte("not json <b>")},
		{"binary", "binary", []byte{0, 1, 2}},
		{"invalid utf-8", "binary", []byte{'a', 0xff}},
		{"empty", "empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newPayloadView(tc.in, []record.Violation{{Field: "/x"}})
			require.Equal(t, tc.kind, v.Kind)
			require.Equal(t, []int{1}, v.Unplaced)
		})
	}
}

func TestPayloadViewTruncates(t *testing.T) {
	t.Parallel()
	doc := "[" + strings.Repeat("1,", maxPayloadLines+10) + "1]"
	v := newPayloadView([]byte(doc), nil)
	require.True(t, v.Truncated)
	require.Len(t, v.Lines, maxPayloadLines)

	// Deep nesting is shown as text.
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	v = newPayloadView([]byte(deep), []record.Violation{{Field: "/0/0"}})
	require.Equal(t, "text", v.Kind)
	require.Equal(t, []int{1}, v.Unplaced)
	v = newPayloadView([]byte(strings.Repeat("[", maxPayloadDepth)+strings.Repeat("]", maxPayloadDepth)), nil)
	require.Equal(t, "json", v.Kind)

	// Text and binary views are cut too.
	v = newPayloadView([]byte(strings.Repeat("é", maxTextBytes)), nil)
	require.Equal(t, "text", v.Kind)
	require.True(t, v.Truncated)
	require.Len(t, v.Text, maxTextBytes)
	v = newPayloadView(make([]byte, maxBinaryBytes+1), nil)
	require.Equal(t, "binary", v.Kind)
	require.True(t, v.Truncated)

	// A long pointer stays off the page.
	long := strings.Repeat("k", maxPathAttr)
	v = newPayloadView([]byte(`{"`+long+`":[1]}`), []record.Violation{{Field: "/" + long + "/0"}})
	require.Equal(t, "/"+long, v.Lines[1].Path)
	require.Empty(t, v.Lines[1].PathAttr)
	require.Equal(t, []int{1}, v.Lines[2].Errors, "marks do not need the attribute")
	require.Equal(t, "/k", newPayloadView([]byte(`{"k":1}`), nil).Lines[1].PathAttr)
}

func TestQuarantineFilters(t *testing.T) {
	t.Parallel()
	h, s := fixture(t)

	r := get(t, h, "/quarantine?error_type=PARSE_ERROR&topic=&status=quarantined&since=2026-11-03T09:00&until=2026-11-03T11:00:00Z")
	require.Equal(t, http.StatusOK, r.status)
	f := s.filters[len(s.filters)-1]
	require.Equal(t, record.ParseError, f.ErrorType)
	require.Equal(t, quarantine.StatusQuarantined, f.Status)
	require.Equal(t, time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), f.Since)
	require.Equal(t, time.Date(2026, 11, 3, 11, 0, 0, 0, time.UTC), f.Until)
	require.Contains(t, r.body, `<option value="PARSE_ERROR" selected>`)

	// htmx gets the results alone, and a clean address to push.
	r = get(t, h, "/quarantine?error_type=&topic=raw-events&status=", "HX-Request", "true")
	require.NotContains(t, r.body, "<html")
	require.Contains(t, r.body, `id="quarantine-table"`)
	require.Equal(t, "/quarantine?topic=raw-events", r.header.Get("HX-Push-Url"))
	require.Contains(t, r.body, `href="/quarantine?cursor=c1&amp;topic=raw-events"`, "the next page keeps the filters")

	for target, problem := range map[string]string{
		"/quarantine?error_type=NOPE":                               "Unknown error type &#34;NOPE&#34;.",
		"/quarantine?status=gone":                                   "Unknown status &#34;gone&#34;.",
		"/quarantine?since=yesterday":                               "From: &#34;yesterday&#34; is not a time",
		"/quarantine?since=2026-11-03T10:00&until=2026-11-03T09:00": "From is after To.",
		"/quarantine?cursor=bad":                                    "This page link is no longer valid",
	} {
		r := get(t, h, target)
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, r.body, problem, target)
	}
	require.Contains(t, get(t, h, "/quarantine?error_type=RANGE_VIOLATION").body, "No quarantined record matches these filters.")

	// Full-text search: the text stays text in the box, the page says how
	// many records were read, and no "reprocess all" is offered (a
	// reprocess filter cannot search).
	h, _ = fixture(t, func(o *Options) { o.Reprocess = &fakeReprocessor{} })
	r = get(t, h, "/quarantine?q="+url.QueryEscape(hostile))
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `value="&lt;script&gt;alert(1)&lt;/script&gt;`)
	require.Contains(t, r.body, "records searched")
	require.NotContains(t, r.body, "reprocess-matching")
	require.Contains(t, get(t, h, "/quarantine?error_type=PARSE_ERROR").body, "reprocess-matching")
}

func TestActionsAndHistoryOnlyWhenSet(t *testing.T) {
	t.Parallel()
	h, _ := fixture(t)
	r := get(t, h, "/quarantine/aaa")
	for _, id := range []string{`id="actions"`, "action-reprocess", "action-discard", "action-edit", "nav-reprocess", `id="history"`, "reprocess-matching"} {
		require.NotContains(t, r.body, id)
	}
	require.Contains(t, get(t, h, "/quarantine").body, `id="quarantine-table"`)
	require.NotContains(t, get(t, h, "/quarantine").body, "reprocess-matching")
	require.Equal(t, http.StatusNotFound, get(t, h, "/reprocess").status)

	at := time.Date(2026, 11, 4, 8, 0, 0, 0, time.UTC)
	h, _ = fixture(t, func(o *Options) {
		o.Reprocess = &fakeReprocessor{}
		o.Actions.EditPayload = true
		o.History = history{{At: at, Actor: "ana", Action: "reprocessed", Detail: hostile}}
	})
	r = get(t, h, "/quarantine/aaa")
	for _, want := range []string{
		`action="/quarantine/aaa/reprocess"`, `action="/quarantine/aaa/discard"`,
		`href="/quarantine/aaa/edit"`, `id="nav-reprocess"`, `id="history"`, "reprocessed</strong> by ana",
	} {
		require.Contains(t, r.body, want)
	}
	require.NotContains(t, r.body, "<script>alert")
	require.Contains(t, get(t, h, "/quarantine?topic=raw-events&cursor=c1").body, `id="reprocess-matching" href="/reprocess?topic=raw-events"`)
}

func TestSchemaPages(t *testing.T) {
	t.Parallel()
	st, err := regsqlite.New(regsqlite.Options{Path: filepath.Join(t.TempDir(), "registry.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	reg, err := registry.New(registry.Options{Store: st})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = reg.SetCompatibility(ctx, "orders", "NONE")
	require.NoError(t, err)
	for _, src := range []string{
		`{"type":"object","properties":{"id":{"type":"string"}}}`,
		`{"type":"object","properties":{"id":{"type":"string","maxLength":5}}}`,
	} {
		_, err := reg.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: src})
		require.NoError(t, err)
	}
	h, _ := fixture(t, func(o *Options) { o.Schemas = reg })

	r := get(t, h, "/schemas")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `href="/schemas/orders"`)
	require.Contains(t, r.body, "NONE")
	require.Contains(t, r.body, "nav-schemas")

	r = get(t, h, "/schemas/orders")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `id="changes"`)
	require.Contains(t, r.body, "MAX_LENGTH_ADDED")
	require.Contains(t, r.body, "breaking changes")
	require.Equal(t, 2, strings.Count(r.body, `<pre class="payload">`))

	r = get(t, h, "/schemas/orders?from=1&to=1")
	require.NotContains(t, r.body, `id="changes"`)
	require.Contains(t, get(t, h, "/schemas/orders?from=9").body, "No such version to compare.")
	require.Equal(t, http.StatusNotFound, get(t, h, "/schemas/nope").status)
}

func TestEventsRenderFragments(t *testing.T) {
	t.Parallel()
	h, _ := fixture(t)
	u, ok := h.(*ui)
	require.True(t, ok)
	evs, err := u.renderEvents(Actions{}, live.Snapshot{Processed: 1234, Recent: []live.Recent{{ID: "x", ErrorField: hostile}}})
	require.NoError(t, err)
	names := make([]string, len(evs))
	for i, ev := range evs {
		names[i] = ev.Name
		require.NotContains(t, ev.Data, "<script>")
	}
	require.Equal(t, dashboardParts, names)
	require.Contains(t, evs[0].Data, `id="processed-total">1,234<`)
}

func TestResumeCircuitOnlyWhenSetAndOpen(t *testing.T) {
	t.Parallel()
	snap := live.Snapshot{Circuits: []live.Circuit{{Topic: "a", State: "open"}, {Topic: "b", State: "closed"}}}
	for _, enabled := range []bool{false, true} {
		h, _ := fixture(t, func(o *Options) { o.Actions.ResumeCircuit = enabled })
		evs, err := h.(*ui).renderEvents(h.(*ui).opts.Actions, snap)
		require.NoError(t, err)
		var circuits string
		for _, ev := range evs {
			if ev.Name == "circuits" {
				circuits = ev.Data
			}
		}
		require.Equal(t, enabled, strings.Contains(circuits, `hx-post="/api/v1/circuit/a/resume"`))
		require.NotContains(t, circuits, "/api/v1/circuit/b/resume")
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1,234,567", num(1234567))
	require.Equal(t, "-1,000", num(-1000))
	require.Equal(t, "12", num(12))
	require.Equal(t, "w0", barClass(0))
	require.Equal(t, "w5", barClass(0.001))
	require.Equal(t, "w50", barClass(0.5))
	require.Equal(t, "w100", barClass(1))
	require.Equal(t, "—", pct((*float64)(nil)))
	require.Equal(t, "250 µs", fmtMillis(0.00025))
	require.Equal(t, "2.50 ms", fmtMillis(0.0025))
	require.Equal(t, "1.5", fmtRate(1.5))
	require.Equal(t, "1,500", fmtRate(1500))
	require.True(t, errors.Is(quarantine.ErrNotFound, quarantine.ErrNotFound))
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	h, err := LoginPage()
	require.NoError(t, err)
	r := get(t, h, "/login?error=1&next="+url.QueryEscape(`/quarantine"><script>alert(1)</script>`))
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `id="login-error"`)
	require.Contains(t, r.body, `name="next" value="/quarantine&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
	require.NotContains(t, r.body, "<script")
	// The inline stylesheet is the one the CSP's hash allows, and nothing
	// else is.
	css, err := staticFS.ReadFile("static/login.css")
	require.NoError(t, err)
	require.Contains(t, r.body, "<style>"+string(css)+"</style>")
	sum := sha256.Sum256(css)
	require.Equal(t, "default-src 'none'; style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		r.header.Get("Content-Security-Policy"))
	require.NotContains(t, get(t, h, "/login").body, "login-error")
}

func TestPrincipalAndLogout(t *testing.T) {
	t.Parallel()
	h, _ := fixture(t)
	require.NotContains(t, get(t, h, "/").body, `action="/logout"`, "no auth: no one to log out")
	h, _ = fixture(t, func(o *Options) {
		o.Principal = func(context.Context) (string, string) { return hostile, "viewer" }
	})
	body := get(t, h, "/").body
	require.Contains(t, body, `<form method="post" action="/logout" class="who" id="who">`)
	require.Contains(t, body, "<strong>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;</strong> <small>viewer</small>")
}

type fakeReprocessor struct {
	filters     []reprocess.Filter
	requests    []reprocess.Request
	discards    []quarantine.Change
	corrections map[string][]byte
	corrects    []quarantine.Change
	max         int
	job         quarantine.Job
	err         error
}

func (f *fakeReprocessor) Correct(_ context.Context, id string, value []byte, c quarantine.Change) error {
	if id != "aaa" && id != "bbb" {
		return quarantine.ErrNotFound
	}
	if f.err != nil {
		return f.err
	}
	if f.corrections == nil {
		f.corrections = map[string][]byte{}
	}
	f.corrections[id] = value
	f.corrects = append(f.corrects, c)
	return nil
}

func (f *fakeReprocessor) Correction(_ context.Context, id string) ([]byte, error) {
	v, ok := f.corrections[id]
	if !ok {
		return nil, quarantine.ErrNotFound
	}
	return v, nil
}

func (f *fakeReprocessor) MaxPayloadBytes() int {
	if f.max == 0 {
		return 1 << 20
	}
	return f.max
}

func (f *fakeReprocessor) DryRun(_ context.Context, flt reprocess.Filter) (reprocess.DryRunResult, error) {
	f.filters = append(f.filters, flt)
	if f.err != nil {
		return reprocess.DryRunResult{}, f.err
	}
	return reprocess.DryRunResult{Matched: 3, WouldPass: 2, WouldFail: 1, SampleFailures: []reprocess.SampleFailure{
		{ID: "bbb", Errors: []record.Violation{{Type: record.ParseError, Message: hostile}}},
	}}, nil
}

func (f *fakeReprocessor) Start(_ context.Context, req reprocess.Request) (string, error) {
	f.requests = append(f.requests, req)
	return "job1", f.err
}

func (f *fakeReprocessor) Job(_ context.Context, id string) (quarantine.Job, error) {
	if id != f.job.ID {
		return quarantine.Job{}, quarantine.ErrNotFound
	}
	return f.job, nil
}

func (f *fakeReprocessor) Discard(_ context.Context, id string, c quarantine.Change) error {
	if id != "aaa" {
		return quarantine.ErrNotFound
	}
	f.discards = append(f.discards, c)
	return f.err
}

func post(t *testing.T, h http.Handler, target string, form url.Values, hdr ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return response{rec.Code, rec.Result().Header, string(body)}
}

func TestReprocessFlow(t *testing.T) {
	t.Parallel()
	rp := &fakeReprocessor{}
	h, _ := fixture(t, func(o *Options) {
		o.Reprocess = rp
		o.Principal = func(context.Context) (string, string) { return "ana", "operator" }
	})

	// The page comes prefilled from the quarantine browser's filters.
	r := get(t, h, "/reprocess?error_type=MISSING_FIELD&topic=raw-events")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `<option value="MISSING_FIELD" selected>`)
	require.Contains(t, r.body, `name="topic" value="raw-events"`)
	require.Contains(t, r.body, `<option value="clean" selected>`)

	// Dry run: counts, the failures with escaped errors, and a confirmation
	// carrying the same form.
	form := url.Values{"error_type": {"MISSING_FIELD"}, "topic": {"raw-events"}, "target": {"raw"}, "reason": {"schema v2"}}
	r = post(t, h, "/reprocess/dry-run", form, "HX-Request", "true")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []reprocess.Filter{{ErrorType: record.MissingField, Topic: "raw-events"}}, rp.filters)
	require.Contains(t, r.body, `id="dry-matched">3<`)
	require.Contains(t, r.body, `id="dry-pass">2<`)
	require.Contains(t, r.body, `href="/quarantine/bbb"`)
	require.NotContains(t, r.body, "<script>alert")
	require.Contains(t, r.body, `<input type="hidden" name="reason" value="schema v2">`)
	require.Contains(t, r.body, `<input type="hidden" name="target" value="raw">`)
	require.Contains(t, r.body, "Reprocess 3 records")

	// Confirm: the job starts as the logged-in user, and its page follows.
	r = post(t, h, "/reprocess/start", form)
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, "/reprocess/jobs/job1", r.header.Get("Location"))
	require.Equal(t, reprocess.Request{
		Filter: reprocess.Filter{ErrorType: record.MissingField, Topic: "raw-events"},
		Target: reprocess.TargetRaw, Reason: "schema v2", Actor: "ana", Role: "operator",
	}, rp.requests[0])

	rp.job = quarantine.Job{ID: "job1", State: quarantine.JobRunning, Matched: 4, Passed: 1, Failed: 1, Target: "raw"}
	r = get(t, h, "/reprocess/jobs/job1")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `hx-trigger="every 1s"`, "a running job refreshes itself")
	require.Contains(t, r.body, `class="fill w50"`)
	rp.job.State, rp.job.Passed, rp.job.Failed = quarantine.JobDone, 3, 1
	r = get(t, h, "/reprocess/jobs/job1", "HX-Request", "true")
	require.NotContains(t, r.body, "<html")
	require.NotContains(t, r.body, "hx-trigger", "a finished job stops refreshing")
	require.Contains(t, r.body, `id="job-state">done<`)
	require.Equal(t, http.StatusNotFound, get(t, h, "/reprocess/jobs/nope").status)

	// One record, from its page.
	r = post(t, h, "/quarantine/aaa/reprocess", url.Values{"target": {"clean"}, "reason": {"fixed"}})
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, reprocess.Filter{IDs: []string{"aaa"}}, rp.requests[1].Filter)
	require.Equal(t, reprocess.TargetClean, rp.requests[1].Target)

	// Discard.
	r = post(t, h, "/quarantine/aaa/discard", url.Values{"reason": {"test data"}})
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, "/quarantine/aaa", r.header.Get("Location"))
	require.Equal(t, []quarantine.Change{{Actor: "ana", Role: "operator", Reason: "test data"}}, rp.discards)
	require.Equal(t, http.StatusNotFound, post(t, h, "/quarantine/nope/discard", nil).status)
}

func TestActionsHiddenFromViewers(t *testing.T) {
	t.Parallel()
	h, _ := fixture(t, func(o *Options) {
		o.Reprocess = &fakeReprocessor{}
		o.MayChange = func(context.Context) bool { return false }
	})
	for _, target := range []string{"/quarantine/aaa", "/quarantine", "/"} {
		body := get(t, h, target).body
		for _, id := range []string{`id="actions"`, "nav-reprocess", "reprocess-matching"} {
			require.NotContains(t, body, id, target)
		}
	}
}

func TestReprocessProblems(t *testing.T) {
	t.Parallel()
	rp := &fakeReprocessor{}
	h, _ := fixture(t, func(o *Options) { o.Reprocess = rp })

	r := post(t, h, "/reprocess/dry-run", url.Values{"target": {"elsewhere"}})
	require.Contains(t, r.body, "Choose where the records that pass go.")
	r = post(t, h, "/reprocess/dry-run", url.Values{"target": {"clean"}, "error_type": {"NOPE"}})
	require.Contains(t, r.body, "Unknown error type")
	require.Empty(t, rp.filters)

	rp.err = fmt.Errorf("filter.status %q: only quarantined or failed_again records can be reprocessed: %w", "discarded", reprocess.ErrInvalidRequest)
	r = post(t, h, "/reprocess/dry-run", url.Values{"target": {"clean"}})
	require.Contains(t, r.body, "only quarantined or failed_again records can be reprocessed")
	require.NotContains(t, r.body, "invalid reprocess request")
	r = post(t, h, "/reprocess/start", url.Values{"target": {"clean"}})
	require.Equal(t, http.StatusBadRequest, r.status)

	rp.err = reprocess.ErrClosed
	require.Equal(t, http.StatusServiceUnavailable, post(t, h, "/reprocess/start", url.Values{"target": {"clean"}}).status)
	rp.err = quarantine.ErrConflict
	require.Equal(t, http.StatusConflict, post(t, h, "/quarantine/aaa/discard", url.Values{"reason": {"x"}}).status)
	rp.err = errors.New("disk on fire")
	require.Equal(t, http.StatusInternalServerError, post(t, h, "/quarantine/aaa/discard", url.Values{"reason": {"x"}}).status)

	// htmx gets a redirect header instead of a 303 it would follow itself.
	rp.err = nil
	r = post(t, h, "/quarantine/aaa/reprocess", url.Values{"target": {"clean"}}, "HX-Request", "true")
	require.Equal(t, http.StatusNoContent, r.status)
	require.Equal(t, "/reprocess/jobs/job1", r.header.Get("HX-Redirect"))
}
