package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

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
		require.Equal(t, strings.Count(r.body, `<script src="/static/`), strings.Count(r.body, "<script"), "only the page's own scripts")
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

// rows are the ids of the records a quarantine page lists, in order.
func rows(body string) []string {
	var ids []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

var (
	rowRE  = regexp.MustCompile(`<a class="open" href="/quarantine/([^"]+)">`)
	nextRE = regexp.MustCompile(`id="next-page" href="([^"]+)"`)
)

// nextPage is the page's next-page link, "" when there is none.
func nextPage(body string) string {
	m := nextRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestQuarantineFilters(t *testing.T) {
	t.Parallel()
	h, e := fixture(t)
	// Beside aaa and bbb: a parse error from before the time range, one
	// discarded, and a page and more of records on raw-events, with some
	// on another topic between them.
	entries := []quarantine.Entry{
		{ID: "early", SourceTopic: rawTopic, QuarantinedAt: at.Add(-2 * time.Hour), ErrorType: record.ParseError, Status: quarantine.StatusQuarantined},
		{ID: "gone", SourceTopic: rawTopic, QuarantinedAt: at.Add(-time.Minute), ErrorType: record.ParseError, Status: quarantine.StatusQuarantined},
	}
	for i := range quarantine.DefaultLimit + 10 {
		topic := rawTopic
		if i%10 == 0 {
			topic = "other-events"
		}
		entries = append(entries, quarantine.Entry{
			ID: fmt.Sprintf("r%03d", i), SourceTopic: topic, QuarantinedAt: at.Add(-time.Duration(i+2) * time.Minute),
			ErrorType: record.TypeMismatch, Status: quarantine.StatusQuarantined,
		})
	}
	e.put(entries, make([]*quarantine.Payload, len(entries)))
	require.NoError(t, e.meta.Discard(context.Background(), "gone", quarantine.Change{Actor: "ana", Reason: "test data"}))

	r := get(t, h, "/quarantine?error_type=PARSE_ERROR&topic=&status=quarantined&since=2026-11-03T09:00&until=2026-11-03T11:00:00Z")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"bbb"}, rows(r.body), "the type, status and time range all apply")
	require.Contains(t, r.body, `<option value="PARSE_ERROR" selected>`)
	require.Equal(t, []string{"bbb", "gone", "early"}, rows(get(t, h, "/quarantine?error_type=PARSE_ERROR").body))

	// htmx gets the results alone, and a clean address to push.
	r = get(t, h, "/quarantine?error_type=&topic=raw-events&status=", "HX-Request", "true")
	require.NotContains(t, r.body, "<html")
	require.Contains(t, r.body, `id="quarantine-table"`)
	require.Equal(t, "/quarantine?topic=raw-events", r.header.Get("HX-Push-Url"))
	// The next page keeps the filters, and goes on where this one ended.
	first := rows(r.body)
	require.Len(t, first, quarantine.DefaultLimit)
	next := nextPage(r.body)
	u, err := url.Parse(next)
	require.NoError(t, err)
	require.Equal(t, "/quarantine", u.Path)
	require.Equal(t, "raw-events", u.Query().Get("topic"), "the next page keeps the filters")
	require.NotEmpty(t, u.Query().Get("cursor"))
	r = get(t, h, next, "HX-Request", "true")
	require.Equal(t, http.StatusOK, r.status)
	require.Empty(t, nextPage(r.body), "the last page")
	// Newest first, ties broken by id (descending): bbb before aaa.
	want := []string{"bbb", "aaa", "gone"}
	for _, en := range entries[2:] {
		if en.SourceTopic == rawTopic {
			want = append(want, en.ID)
		}
	}
	want = append(want, "early")
	require.Equal(t, want, append(first, rows(r.body)...), "every raw-events record once, none of the others")

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

	// Full-text search reads the payload store: the text stays text in the
	// box, the page says how many records were read, and no "reprocess
	// all" is offered (a reprocess filter cannot search).
	h = e.handler(func(o *Options) { o.Reprocess = e.service() })
	r = get(t, h, "/quarantine?q="+url.QueryEscape(hostile))
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"aaa"}, rows(r.body), "the one payload holding the text")
	require.Contains(t, r.body, `value="&lt;script&gt;alert(1)&lt;/script&gt;`)
	require.Contains(t, r.body, "records searched")
	require.NotContains(t, r.body, "reprocess-matching")
	require.Equal(t, []string{"aaa"}, rows(get(t, h, "/quarantine?q="+url.QueryEscape(`"A":TRUE`)).body), "found in the payload alone, ignoring case")
	require.Contains(t, get(t, h, "/quarantine?q=nowhere").body, "No quarantined record matches these filters.")
	require.Contains(t, get(t, h, "/quarantine?error_type=PARSE_ERROR").body, "reprocess-matching")
}

func TestActionsAndHistoryOnlyWhenSet(t *testing.T) {
	t.Parallel()
	h, e := fixture(t)
	r := get(t, h, "/quarantine/aaa")
	for _, id := range []string{`id="actions"`, "action-reprocess", "action-discard", "action-edit", "nav-reprocess", `id="history"`, "reprocess-matching"} {
		require.NotContains(t, r.body, id)
	}
	require.Contains(t, get(t, h, "/quarantine").body, `id="quarantine-table"`)
	require.NotContains(t, get(t, h, "/quarantine").body, "reprocess-matching")
	require.Equal(t, http.StatusNotFound, get(t, h, "/reprocess").status)

	// History is the audit log's: a correction by ana, with a hostile
	// reason, is on it.
	svc := e.service()
	require.NoError(t, svc.Correct(context.Background(), "aaa", []byte(`{"user_id":"USER000001"}`),
		quarantine.Change{Actor: "ana", Role: "operator", Reason: hostile}))
	h = e.handler(func(o *Options) {
		o.Reprocess = svc
		o.History = AuditHistory(e.meta.AuditLog())
	})
	r = get(t, h, "/quarantine/aaa")
	for _, want := range []string{
		`action="/quarantine/aaa/reprocess"`, `action="/quarantine/aaa/discard"`,
		`href="/quarantine/aaa/edit"`, `id="nav-reprocess"`, `id="history"`,
		quarantine.ActionEdit + "</strong> by ana: &lt;script&gt;alert(1)",
	} {
		require.Contains(t, r.body, want)
	}
	require.NotContains(t, r.body, "<script>alert")
	require.Contains(t, get(t, h, "/quarantine/bbb").body, `id="history"`, "an empty history is shown too")

	// The reprocess link drops the page's cursor, a real one.
	page, err := e.meta.List(context.Background(), quarantine.Filter{Topic: rawTopic, Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	r = get(t, h, "/quarantine?topic=raw-events&cursor="+url.QueryEscape(page.NextCursor))
	require.Equal(t, []string{"aaa"}, rows(r.body))
	require.Contains(t, r.body, `id="reprocess-matching" href="/reprocess?topic=raw-events"`)
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
	require.Contains(t, r.body, "not checked", "the level is NONE")
	require.Contains(t, r.body, `<tr class="add"><td class="ln"></td><td class="ln">6</td><td class="code"><span class="op">&#43;</span>      &#34;maxLength&#34;: 5</td></tr>`, "a line diff")

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
	require.Contains(t, evs[0].Data, `id="processed-rate">…<`, "the first snapshot has no interval to measure a rate over")

	evs, err = u.renderEvents(Actions{}, live.Snapshot{Processed: 1234, Interval: 2, ProcessedRate: 50})
	require.NoError(t, err)
	require.Contains(t, evs[0].Data, `id="processed-rate">50<`)
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
	require.Equal(t, "w100", barClass(relative(0.2, 0.2)), "the biggest of a list fills its bar")
	require.Equal(t, "w50", barClass(relative(0.1, 0.2)))
	require.Equal(t, "w0", barClass(relative(0.1, 0)))
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

// holdProduce holds every produce request the broker gets until the
// returned release is called (at the latest when the test ends): a job
// stops in the middle, publishing.
func holdProduce(t *testing.T, c *kfake.Cluster) (release func()) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release) // before the Service stops: it waits for its jobs
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.SleepControl(func() { <-ch })
		return nil, nil, false
	})
	return release
}

// jobID is the job a redirect leads to.
func jobID(t *testing.T, location string) string {
	t.Helper()
	id, ok := strings.CutPrefix(location, "/reprocess/jobs/")
	require.True(t, ok, location)
	return id
}

func TestReprocessFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(nil)
	// Three records quarantined for a field the schema no longer requires,
	// newest first: m1 still fails (its user_id), m2 and m3 now pass; m4,
	// on another topic, is not selected.
	var (
		missing  []quarantine.Entry
		payloads []*quarantine.Payload
	)
	for i, user := range []string{hostile, "USER000002", "USER000003", "USER000004"} {
		topic := rawTopic
		if i == 3 {
			topic = "other-events"
		}
		missing = append(missing, quarantine.Entry{
			ID: fmt.Sprintf("m%d", i+1), SourceTopic: topic, SourceOffset: int64(10 + i), Key: fmt.Appendf(nil, "k%d", i+1),
			QuarantinedAt: at.Add(-time.Duration(i+1) * time.Minute), Subject: "user_event", SchemaVersion: 1,
			ErrorType: record.MissingField, ErrorField: "/country",
			Errors: []record.Violation{{Type: record.MissingField, Field: "/country", Keyword: "required", Message: "missing"}},
			Status: quarantine.StatusQuarantined,
		})
		payloads = append(payloads, &quarantine.Payload{Value: []byte(`{"user_id":"` + user + `","event_type":"view"}`)})
	}
	e.put(missing, payloads)
	cluster, client := e.kafka()
	svc := e.service(func(o *reprocess.Options) { o.BatchSize = 1 })
	run(t, svc)
	release := holdProduce(t, cluster)
	h := e.handler(func(o *Options) {
		o.Reprocess = svc
		o.Principal = func(context.Context) (string, string) { return "ana", "operator" }
	})
	ctx := context.Background()

	// The page comes prefilled from the quarantine browser's filters.
	r := get(t, h, "/reprocess?error_type=MISSING_FIELD&topic=raw-events")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `<option value="MISSING_FIELD" selected>`)
	require.Contains(t, r.body, `name="topic" value="raw-events"`)
	require.Contains(t, r.body, `<option value="clean" selected>`)

	// Dry run: counts, the failures with escaped errors, and a confirmation
	// carrying the same form. Nothing changes.
	form := url.Values{"error_type": {"MISSING_FIELD"}, "topic": {"raw-events"}, "target": {"raw"}, "reason": {"schema v2"}}
	r = post(t, h, "/reprocess/dry-run", form, "HX-Request", "true")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `id="dry-matched">3<`)
	require.Contains(t, r.body, `id="dry-pass">2<`)
	require.Contains(t, r.body, `href="/quarantine/m1"`)
	require.Contains(t, r.body, "PATTERN_MISMATCH")
	require.NotContains(t, r.body, "<script>alert")
	require.Contains(t, r.body, `<input type="hidden" name="reason" value="schema v2">`)
	require.Contains(t, r.body, `<input type="hidden" name="target" value="raw">`)
	require.Contains(t, r.body, "Reprocess 3 records")
	for _, en := range missing {
		require.Equal(t, quarantine.StatusQuarantined, e.get(en.ID).Status, "a dry run changes nothing")
	}
	jobs, err := e.meta.UnfinishedJobs(ctx)
	require.NoError(t, err)
	require.Empty(t, jobs)

	// Confirm: the job starts as the logged-in user, and its page follows.
	r = post(t, h, "/reprocess/start", form)
	require.Equal(t, http.StatusSeeOther, r.status)
	id := jobID(t, r.header.Get("Location"))
	j, err := svc.Job(ctx, id)
	require.NoError(t, err)
	require.Equal(t, [4]string{"raw", "schema v2", "ana", "operator"}, [4]string{j.Target, j.Reason, j.Actor, j.Role})
	var f reprocess.Filter
	require.NoError(t, json.Unmarshal(j.Filter, &f))
	require.WithinDuration(t, time.Now(), f.Until, time.Minute, "the job takes the records quarantined before it started")
	f.Until = time.Time{}
	require.Equal(t, reprocess.Filter{ErrorType: record.MissingField, Topic: rawTopic}, f)

	// The job settles m1 (it fails again) and stops publishing m2: a third
	// of the way.
	e.job(id, func(j quarantine.Job) bool { return j.Failed == 1 })
	r = get(t, h, "/reprocess/jobs/"+id)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `hx-trigger="every 1s"`, "a running job refreshes itself")
	require.Contains(t, r.body, `class="fill w35"`)
	release()
	j = e.job(id, func(j quarantine.Job) bool { return j.State != quarantine.JobRunning })
	require.Equal(t, [4]int64{3, 2, 1, 0}, [4]int64{j.Matched, j.Passed, j.Failed, j.Skipped})
	r = get(t, h, "/reprocess/jobs/"+id, "HX-Request", "true")
	require.NotContains(t, r.body, "<html")
	require.NotContains(t, r.body, "hx-trigger", "a finished job stops refreshing")
	require.Contains(t, r.body, `id="job-state">done<`)
	require.Contains(t, r.body, `class="fill w100"`)
	require.Equal(t, http.StatusNotFound, get(t, h, "/reprocess/jobs/nope").status)
	require.Equal(t, quarantine.StatusFailedAgain, e.get("m1").Status)
	for _, id := range []string{"m2", "m3"} {
		en := e.get(id)
		require.Equal(t, quarantine.StatusReprocessed, en.Status)
		require.Equal(t, "ana", en.StatusActor)
	}
	require.Equal(t, quarantine.StatusQuarantined, e.get("m4").Status)
	ends, err := kadm.NewClient(client).ListEndOffsets(ctx, rawTopic)
	require.NoError(t, err)
	end, _ := ends.Lookup(rawTopic, 0)
	require.Equal(t, int64(2), end.Offset, "the two that pass, back to the raw topic")

	// One record, from its page.
	r = post(t, h, "/quarantine/aaa/reprocess", url.Values{"target": {"clean"}, "reason": {"fixed"}})
	require.Equal(t, http.StatusSeeOther, r.status)
	id = jobID(t, r.header.Get("Location"))
	j = e.job(id, func(j quarantine.Job) bool { return j.State != quarantine.JobRunning })
	require.Equal(t, "clean", j.Target)
	f = reprocess.Filter{}
	require.NoError(t, json.Unmarshal(j.Filter, &f))
	require.Equal(t, reprocess.Filter{IDs: []string{"aaa"}}, f)
	require.Equal(t, [2]int64{1, 1}, [2]int64{j.Matched, j.Failed}, "its user_id still fails")
	require.Equal(t, quarantine.StatusFailedAgain, e.get("aaa").Status)

	// Discard.
	r = post(t, h, "/quarantine/aaa/discard", url.Values{"reason": {"test data"}})
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, "/quarantine/aaa", r.header.Get("Location"))
	aaa := e.get("aaa")
	require.Equal(t, [3]string{string(quarantine.StatusDiscarded), "ana", "test data"},
		[3]string{string(aaa.Status), aaa.StatusActor, aaa.StatusReason})
	ev := e.events(quarantine.AuditTarget("aaa"))[0]
	require.Equal(t, [4]string{quarantine.ActionDiscard, "ana", "operator", "test data"}, [4]string{ev.Action, ev.Actor, ev.Role, ev.Reason})
	require.Equal(t, http.StatusNotFound, post(t, h, "/quarantine/nope/discard", nil).status)
}

func TestActionsHiddenFromViewers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(nil)
	h := e.handler(func(o *Options) {
		o.Reprocess = e.service()
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
	e := newEnv(t)
	e.seed(nil)
	svc := e.service()
	stop := run(t, svc)
	h := e.handler(func(o *Options) { o.Reprocess = svc })

	r := post(t, h, "/reprocess/dry-run", url.Values{"target": {"elsewhere"}})
	require.Contains(t, r.body, "Choose where the records that pass go.")
	require.NotContains(t, r.body, "dry-matched")
	r = post(t, h, "/reprocess/dry-run", url.Values{"target": {"clean"}, "error_type": {"NOPE"}})
	require.Contains(t, r.body, "Unknown error type")
	require.NotContains(t, r.body, "dry-matched")

	// The service refuses what the form cannot: its reason is shown, the
	// sentinel's words are not.
	r = post(t, h, "/reprocess/dry-run", url.Values{"target": {"clean"}, "status": {"discarded"}})
	require.Contains(t, r.body, "only quarantined or failed_again records can be reprocessed")
	require.NotContains(t, r.body, reprocess.ErrInvalidRequest.Error())
	r = post(t, h, "/reprocess/start", url.Values{"target": {"clean"}, "status": {"discarded"}})
	require.Equal(t, http.StatusBadRequest, r.status)

	// htmx gets a redirect header instead of a 303 it would follow itself.
	r = post(t, h, "/quarantine/bbb/reprocess", url.Values{"target": {"clean"}}, "HX-Request", "true")
	require.Equal(t, http.StatusNoContent, r.status)
	j := e.job(jobID(t, r.header.Get("HX-Redirect")), func(j quarantine.Job) bool { return j.State != quarantine.JobRunning })
	require.Equal(t, quarantine.JobDone, j.State)

	// A record discarded already cannot be again.
	require.Equal(t, http.StatusSeeOther, post(t, h, "/quarantine/aaa/discard", url.Values{"reason": {"x"}}).status)
	require.Equal(t, http.StatusConflict, post(t, h, "/quarantine/aaa/discard", url.Values{"reason": {"x"}}).status)

	// A stopped service starts nothing; a closed store fails.
	stop()
	require.Equal(t, http.StatusServiceUnavailable, post(t, h, "/reprocess/start", url.Values{"target": {"clean"}}).status)
	e.closeMeta()
	require.Equal(t, http.StatusInternalServerError, post(t, h, "/quarantine/bbb/discard", url.Values{"reason": {"x"}}).status)
}
