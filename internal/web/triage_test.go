package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// TestQuarantineColumns: the browser shows each record's key, first error
// message and the start of its payload, all as escaped text, and how many
// records match, with links to export them.
func TestQuarantineColumns(t *testing.T) {
	t.Parallel()
	h, e := fixture(t)
	big := append([]byte(`{"note":"`+strings.Repeat("é", 200)), bytes.Repeat([]byte("x"), 1<<20)...) // cut inside a 2-byte character
	e.put([]quarantine.Entry{
		{
			ID: "big", SourceTopic: rawTopic, QuarantinedAt: at.Add(-time.Minute), ErrorType: record.ParseError,
			Key:    []byte{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13},
			Errors: []record.Violation{{Type: record.ParseError, Message: "line one\nline two " + strings.Repeat("long ", 60)}},
			Status: quarantine.StatusQuarantined,
		},
		{
			ID: "lost", SourceTopic: rawTopic, QuarantinedAt: at.Add(-2 * time.Minute), ErrorType: record.ParseError,
			Payload: quarantine.PayloadRef{Segment: "nope", Offset: 8, Length: 20}, Status: quarantine.StatusQuarantined,
		},
	}, []*quarantine.Payload{{Value: big}, nil})

	r := get(t, h, "/quarantine")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `<strong>4</strong> records match`)
	require.NotContains(t, r.body, "<script>alert")
	require.NotContains(t, r.body, "<img")
	// aaa: a hostile key, message and payload, escaped.
	require.Contains(t, cellOf(t, r.body, "aaa", "key"), "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x oner…", "cut to a cell")
	require.Contains(t, cellOf(t, r.body, "aaa", "message"), "bad &lt;script&gt;alert(1)")
	require.Contains(t, cellOf(t, r.body, "aaa", "message"), "+1 more")
	require.Contains(t, cellOf(t, r.body, "aaa", "preview"), `{&#34;user_id&#34;:&#34;&lt;script&gt;alert(1)&lt;/script&gt;`)
	// bbb: a binary payload, in hex.
	require.Contains(t, cellOf(t, r.body, "bbb", "preview"), `<span class="cell-binary" title="binary, shown in hex">de ad 3c 00</span>`)
	// big: a 1 MiB payload, only its start; a binary key, cut; a message on
	// one line, cut.
	preview := html.UnescapeString(cellOf(t, r.body, "big", "preview"))
	require.Contains(t, preview, `{"note":"`+strings.Repeat("é", 115)+"…", "the read ends inside a character: it is dropped")
	require.NotContains(t, preview, "xx", "no more than the start")
	require.Contains(t, cellOf(t, r.body, "big", "key"), "de ad be ef 00 01 02 03 04 05 06 07 08 09 0a 0b …")
	msg := cellOf(t, r.body, "big", "message")
	require.Contains(t, msg, "line one line two long")
	require.True(t, strings.HasSuffix(msg, "…"), msg)
	require.NotContains(t, msg, "\n")
	// lost: the payload store does not have it.
	require.Contains(t, cellOf(t, r.body, "lost", "preview"), "payload not stored")

	// Export links carry the filters, the search and the times as RFC 3339.
	r = get(t, h, "/quarantine?error_type=PARSE_ERROR&since=2026-11-03T09:00&until=2026-11-03T11:00:30.5&q=x")
	m := regexp.MustCompile(`id="export-csv" href="([^"]+)"`).FindStringSubmatch(r.body)
	require.NotNil(t, m, r.body)
	u, err := url.Parse(html.UnescapeString(m[1]))
	require.NoError(t, err)
	require.Equal(t, "/api/v1/quarantine/export", u.Path)
	require.Equal(t, url.Values{
		"error_type": {"PARSE_ERROR"}, "since": {"2026-11-03T09:00:00Z"}, "until": {"2026-11-03T11:00:30.5Z"}, "q": {"x"}, "format": {"csv"},
	}, u.Query())
	require.Contains(t, r.body, "1 found in 3 records searched", "a search is not counted")
}

// cellOf returns the cell of class class in the row of record id.
func cellOf(t *testing.T, body, id, class string) string {
	t.Helper()
	row := regexp.MustCompile(`(?s)<tr class="row" data-id="` + regexp.QuoteMeta(id) + `">(.*?)</tr>`).FindStringSubmatch(body)
	require.NotNil(t, row, "no row %s", id)
	m := regexp.MustCompile(`(?s)<td class="` + class + `"[^>]*>(.*?)</td>`).FindStringSubmatch(row[1])
	require.NotNil(t, m, "no %s cell in row %s", class, id)
	return m[1]
}

func TestCells(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    quarantine.Preview
		want cellText
	}{
		{"text", quarantine.Preview{Value: []byte("a\n\tb  c"), Size: 7}, cellText{Kind: "text", Text: "a b c"}},
		{"cut by the read", quarantine.Preview{Value: []byte("ab"), Size: 9}, cellText{Kind: "text", Text: "ab", Cut: true}},
		{"half a character", quarantine.Preview{Value: []byte("aé")[:2], Size: 9}, cellText{Kind: "text", Text: "a", Cut: true}},
		{"binary", quarantine.Preview{Value: []byte{0, 1, 0xff}, Size: 3}, cellText{Kind: "binary", Text: "00 01 ff"}},
		{"binary cut", quarantine.Preview{Value: bytes.Repeat([]byte{0}, 20), Size: 900}, cellText{Kind: "binary", Text: strings.TrimSpace(strings.Repeat("00 ", 16)), Cut: true}},
		{"tombstone", quarantine.Preview{Null: true}, cellText{Kind: "null", Text: "null (tombstone)"}},
		{"empty", quarantine.Preview{Value: []byte{}}, cellText{Kind: "text"}},
	} {
		require.Equal(t, tc.want, previewCell(tc.p), tc.name)
	}
	require.Equal(t, cellText{Kind: "null"}, keyCell(nil))
	require.Equal(t, cellText{Kind: "text", Text: strings.Repeat("k", keyRunes), Cut: true}, keyCell(bytes.Repeat([]byte("k"), 100)))
	s, c := cut("日本語テキスト", 3)
	require.Equal(t, "日本語", s)
	require.True(t, c)
}

// bulkFixture is the browser over twelve quarantined records on raw-events
// whose user_id the schema refuses (r00 newest) and two that now pass
// (p0, p1), with a running reprocess service; the user is ana, operator.
func bulkFixture(t *testing.T) (http.Handler, *env) {
	t.Helper()
	e := newEnv(t)
	var (
		entries  []quarantine.Entry
		payloads []*quarantine.Payload
	)
	add := func(id, user string, age time.Duration) {
		entries = append(entries, quarantine.Entry{
			ID: id, SourceTopic: rawTopic, SourceOffset: int64(len(entries)), QuarantinedAt: at.Add(-age),
			Subject: "user_event", SchemaVersion: 1, ErrorType: record.PatternMismatch, ErrorField: "/user_id",
			Errors: []record.Violation{{Type: record.PatternMismatch, Field: "/user_id", Keyword: "pattern", Message: "old pattern"}},
			Status: quarantine.StatusQuarantined,
		})
		payloads = append(payloads, &quarantine.Payload{Value: []byte(`{"user_id":"` + user + `","event_type":"view"}`)})
	}
	for i := range 12 {
		add(fmt.Sprintf("r%02d", i), "bob", time.Duration(i+10)*time.Minute)
	}
	add("p0", "USER000001", time.Minute)
	add("p1", "USER000002", 2*time.Minute)
	e.put(entries, payloads)
	svc := e.service()
	run(t, svc)
	return e.handler(func(o *Options) {
		o.Reprocess = svc
		o.Principal = func(context.Context) (string, string) { return "ana", "operator" }
	}), e
}

func TestBulkReprocess(t *testing.T) {
	t.Parallel()
	h, e := bulkFixture(t)

	// The browser offers the bulk actions, every row with its checkbox.
	r := get(t, h, "/quarantine")
	require.Contains(t, r.body, `id="bulk"`)
	require.Equal(t, 14, strings.Count(r.body, `class="pick" name="id"`))
	require.Contains(t, r.body, `id="scope-all"`)

	// The ticked records: a dry run, nothing changes.
	form := url.Values{"scope": {"selected"}, "id": {"p0", "r00", "nope"}, "target": {"clean"}, "reason": {"pattern relaxed"}}
	r = post(t, h, "/quarantine/bulk/dry-run", form, "HX-Request", "true")
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.body, "<html", "htmx gets the answer alone")
	require.Contains(t, r.body, `id="bulk-matched">2<`)
	require.Contains(t, r.body, `id="bulk-pass">1<`)
	require.Contains(t, r.body, `href="/quarantine/r00"`, "the one that would still fail")
	require.Contains(t, r.body, "Reprocess 2 records")
	require.Contains(t, r.body, `<input type="hidden" name="id" value="p0">`)
	require.Equal(t, quarantine.StatusQuarantined, e.get("p0").Status)

	// Without htmx, the whole browser comes back with the answer and the
	// records still ticked.
	r = post(t, h, "/quarantine/bulk/dry-run", form)
	require.Contains(t, r.body, "<html")
	require.Contains(t, r.body, `id="bulk-matched">2<`)
	require.Contains(t, r.body, `value="p0" form="bulk" aria-label="Tick this record" checked>`)

	// Confirmed: a job over exactly those records, as ana.
	r = post(t, h, "/quarantine/bulk/reprocess", form)
	require.Equal(t, http.StatusSeeOther, r.status)
	j := e.job(jobID(t, r.header.Get("Location")), func(j quarantine.Job) bool { return j.State != quarantine.JobRunning })
	require.Equal(t, [3]int64{2, 1, 1}, [3]int64{j.Matched, j.Passed, j.Failed})
	require.Equal(t, [2]string{"ana", "pattern relaxed"}, [2]string{j.Actor, j.Reason})
	require.Equal(t, quarantine.StatusReprocessed, e.get("p0").Status)
	require.Equal(t, quarantine.StatusFailedAgain, e.get("r00").Status)

	// All that match a filter: p1 passes; the failed_again r00 is taken
	// again and fails again.
	all := url.Values{"scope": {"all"}, "error_type": {"PATTERN_MISMATCH"}, "target": {"clean"}}
	r = post(t, h, "/quarantine/bulk/dry-run", all, "HX-Request", "true")
	require.Contains(t, r.body, `id="bulk-matched">13<`)
	require.Contains(t, r.body, `id="bulk-pass">1<`)
	require.Contains(t, r.body, `name="pinned_until"`, "the confirmation is pinned to what was counted")
}

func TestBulkDiscard(t *testing.T) {
	t.Parallel()
	h, e := bulkFixture(t)

	// A reason is required; the count comes first.
	form := url.Values{"scope": {"all"}, "topic": {rawTopic}, "error_type": {"PATTERN_MISMATCH"}}
	r := post(t, h, "/quarantine/bulk/discard-check", form, "HX-Request", "true")
	require.Contains(t, r.body, "Give a reason")
	require.NotContains(t, r.body, "bulk-discard-confirm")
	form.Set("reason", "replayed by mistake <b>")
	r = post(t, h, "/quarantine/bulk/discard-check", form, "HX-Request", "true")
	require.Contains(t, r.body, "14 records (all that match these filters, quarantined until now) will be marked discarded")
	require.Contains(t, r.body, "“replayed by mistake &lt;b&gt;”")
	require.Contains(t, r.body, `id="bulk-discard-confirm">Discard 14 records<`)
	pin := regexp.MustCompile(`name="pinned_until" value="([^"]+)"`).FindStringSubmatch(r.body)
	require.NotNil(t, pin)
	require.Equal(t, quarantine.StatusQuarantined, e.get("r00").Status, "counting changes nothing")

	// A record quarantined after the count is not part of what was
	// confirmed.
	e.put([]quarantine.Entry{{
		ID: "late", SourceTopic: rawTopic, QuarantinedAt: time.Now().Add(time.Minute), ErrorType: record.PatternMismatch,
		Status: quarantine.StatusQuarantined,
	}}, []*quarantine.Payload{{Value: []byte(`{}`)}})

	form.Set("pinned_until", html.UnescapeString(pin[1]))
	r = post(t, h, "/quarantine/bulk/discard", form, "HX-Request", "true")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `id="quarantine-table"`, "the list comes back, updated")
	require.Contains(t, r.body, `id="bulk-discarded">Discarded <strong>14</strong> records`)
	for _, id := range []string{"r00", "r11", "p0", "p1"} {
		en := e.get(id)
		require.Equal(t, [3]string{"discarded", "ana", "replayed by mistake <b>"}, [3]string{string(en.Status), en.StatusActor, en.StatusReason})
	}
	require.Equal(t, quarantine.StatusQuarantined, e.get("late").Status)
	ev := e.events(quarantine.AuditTarget("r05"))
	require.Len(t, ev, 1)
	require.Equal(t, [3]string{quarantine.ActionDiscard, "ana", "replayed by mistake <b>"}, [3]string{ev[0].Action, ev[0].Actor, ev[0].Reason})

	// Ticked records; a repeat finds nothing left to discard.
	r = post(t, h, "/quarantine/bulk/discard-check", url.Values{"scope": {"selected"}, "id": {"late", "r00"}, "reason": {"x"}}, "HX-Request", "true")
	require.Contains(t, r.body, "1 record of those ticked will be marked discarded")
	r = post(t, h, "/quarantine/bulk/discard-check", url.Values{"scope": {"selected"}, "id": {"r00"}, "reason": {"x"}}, "HX-Request", "true")
	require.Contains(t, r.body, `id="bulk-discard-none"`)
}

func TestBulkProblems(t *testing.T) {
	t.Parallel()
	h, _ := bulkFixture(t)
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"scope": {"selected"}, "target": {"clean"}}, "Tick the records to act on"},
		{url.Values{"scope": {"all"}, "q": {"bob"}, "target": {"clean"}}, "cannot include a text search"},
		{url.Values{"scope": {"all"}, "status": {"reprocessed"}, "target": {"clean"}}, "This filter selects reprocessed records"},
		{url.Values{"scope": {"all"}, "error_type": {"NOPE"}, "target": {"clean"}}, "Unknown error type"},
		{url.Values{"scope": {"all"}, "target": {"elsewhere"}}, "Choose where the records that pass go."},
		{url.Values{"scope": {"selected"}, "id": strings.Split(strings.Repeat("x,", 1001), ",")[:1001], "target": {"clean"}}, "1001 records are ticked; at most 1000"},
	} {
		r := post(t, h, "/quarantine/bulk/dry-run", tc.form, "HX-Request", "true")
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, html.UnescapeString(r.body), tc.want, tc.form)
		require.NotContains(t, r.body, "bulk-matched")
	}
	require.Equal(t, http.StatusBadRequest, post(t, h, "/quarantine/bulk/reprocess", url.Values{"scope": {"selected"}, "target": {"clean"}}).status)
}

func TestBulkOnlyForOperators(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(nil)
	h := e.handler(func(o *Options) {
		o.Reprocess = e.service()
		o.MayChange = func(context.Context) bool { return false }
	})
	body := get(t, h, "/quarantine").body
	require.NotContains(t, body, `id="bulk"`)
	require.NotContains(t, body, `class="pick"`)
	require.Contains(t, body, `id="export-csv"`, "a viewer may export")
	for _, path := range []string{"/quarantine/bulk/dry-run", "/quarantine/bulk/reprocess", "/quarantine/bulk/discard-check", "/quarantine/bulk/discard"} {
		r := post(t, h, path, url.Values{"scope": {"selected"}, "id": {"aaa"}, "reason": {"x"}, "target": {"clean"}})
		require.Equal(t, http.StatusForbidden, r.status, path)
	}
	require.Equal(t, quarantine.StatusQuarantined, e.get("aaa").Status)
}
