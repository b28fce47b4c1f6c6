package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

// TestReadFilter pins what the browser's query parser reads and the
// messages it gives, the filter it returns with a problem included (the
// list page's "filtered" note reads it), and the form it shows again.
func TestReadFilter(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tm
	}
	cases := []struct {
		name, query string
		want        quarantine.Filter
		problem     string
	}{
		{"empty", "", quarantine.Filter{Limit: quarantine.DefaultLimit}, ""},
		{
			"every parameter",
			"error_type=MISSING_FIELD&status=failed_again&field=/a&topic=t&subject=s&cursor=c&since=2026-11-03T10:00&until=2026-11-03T11:00:30",
			quarantine.Filter{
				ErrorType: record.MissingField, Status: quarantine.StatusFailedAgain, Field: "/a", Topic: "t", Subject: "s",
				Cursor: "c", Limit: quarantine.DefaultLimit,
				Since: at("2026-11-03T10:00:00Z"), Until: at("2026-11-03T11:00:30Z"),
			},
			"",
		},
		{"RFC 3339", "since=2026-11-03T10:00:00.5%2B01:00", quarantine.Filter{Limit: quarantine.DefaultLimit, Since: at("2026-11-03T09:00:00.5Z")}, ""},
		{"limit is not read", "limit=5", quarantine.Filter{Limit: quarantine.DefaultLimit}, ""},
		{"repeated takes the first", "topic=a&topic=b", quarantine.Filter{Topic: "a", Limit: quarantine.DefaultLimit}, ""},
		{
			"unknown error type",
			"error_type=NOPE&topic=t&status=gone",
			quarantine.Filter{ErrorType: "NOPE", Topic: "t", Status: "gone", Limit: quarantine.DefaultLimit},
			`Unknown error type "NOPE".`,
		},
		{"unknown status", "status=gone", quarantine.Filter{Status: "gone", Limit: quarantine.DefaultLimit}, `Unknown status "gone".`},
		{"bad since", "since=yesterday", quarantine.Filter{Limit: quarantine.DefaultLimit}, `From: "yesterday" is not a time such as 2026-11-03T10:00 (UTC).`},
		{
			"bad until",
			"since=2026-11-03T10:00&until=2026-11-03",
			quarantine.Filter{Limit: quarantine.DefaultLimit, Since: at("2026-11-03T10:00:00Z")},
			`To: "2026-11-03" is not a time such as 2026-11-03T10:00 (UTC).`,
		},
		{
			"since after until",
			"since=2026-11-03T10:00&until=2026-11-03T09:00",
			quarantine.Filter{Limit: quarantine.DefaultLimit, Since: at("2026-11-03T10:00:00Z"), Until: at("2026-11-03T09:00:00Z")},
			"From is after To.",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q, err := url.ParseQuery(c.query)
			require.NoError(t, err)
			fq := readFilter(q)
			f, problem := fq.Filter, fq.Problem
			require.Equal(t, c.problem, problem)
			require.True(t, c.want.Since.Equal(f.Since), "since %v, want %v", f.Since, c.want.Since)
			require.True(t, c.want.Until.Equal(f.Until), "until %v, want %v", f.Until, c.want.Until)
			f.Since, f.Until, c.want.Since, c.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			require.Equal(t, c.want, f)
		})
	}
	t.Run("the form as sent, refused or not", func(t *testing.T) {
		t.Parallel()
		q, err := url.ParseQuery("q=bob&error_type=NOPE&status=gone&topic=t&subject=s&field=/a&since=yesterday&until=2026-11-03T11:00&cursor=c")
		require.NoError(t, err)
		require.Equal(t, listForm{
			Search: "bob", ErrorType: "NOPE", Status: "gone", Topic: "t", Subject: "s", Field: "/a",
			Since: "yesterday", Until: "2026-11-03T11:00",
		}, readFilter(q).Form)
	})
}

// TestFilterFormsEcho pins what the browser's filter forms show again: the
// quarantine browser and the reprocess page fill every filter from the
// query as it was sent.
func TestFilterFormsEcho(t *testing.T) {
	t.Parallel()
	h, _ := bulkFixture(t)
	const query = "error_type=PATTERN_MISMATCH&status=failed_again&topic=raw-events&subject=user_event&field=/user_id" +
		"&since=2026-11-03T08:00&until=2026-11-03T11:00:30"
	want := []string{
		`<option value="PATTERN_MISMATCH" selected>`,
		`<option value="failed_again" selected>`,
		`name="topic"[^>]* value="raw-events"`,
		`name="subject"[^>]* value="user_event"`,
		`name="field"[^>]* value="/user_id"`,
		`name="since" value="2026-11-03T08:00"`,
		`name="until" value="2026-11-03T11:00:30"`,
	}
	for _, page := range []string{"/quarantine?q=bob&", "/reprocess?"} {
		r := get(t, h, page+query)
		require.Equal(t, http.StatusOK, r.status, page)
		for _, w := range want {
			require.Regexp(t, w, r.body, page)
		}
	}
	require.Regexp(t, `name="q"[^>]* value="bob"`, get(t, h, "/quarantine?q=bob&"+query).body)
}

// TestFilterFormsSelect pins the selection the forms' filters make: the
// reprocess page's job and a bulk reprocess of all that match take every
// filter, their times read as the browser sends them; a bulk form pinned
// before until takes the pin.
func TestFilterFormsSelect(t *testing.T) {
	t.Parallel()
	h, e := bulkFixture(t)
	form := func(extra ...string) url.Values {
		f := url.Values{
			"error_type": {"PATTERN_MISMATCH"}, "status": {"quarantined"}, "topic": {rawTopic}, "subject": {"user_event"},
			"field": {"/user_id"}, "since": {"2020-01-02T10:00"}, "until": {"2020-01-02T11:00:30"},
			"target": {"clean"}, "reason": {"pinning"},
		}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	want := func(until string) reprocess.Filter {
		u, err := time.Parse(time.RFC3339, until)
		require.NoError(t, err)
		return reprocess.Filter{
			ErrorType: record.PatternMismatch, Status: quarantine.StatusQuarantined, Topic: rawTopic, Subject: "user_event",
			Field: "/user_id", Since: time.Date(2020, 1, 2, 10, 0, 0, 0, time.UTC), Until: u,
		}
	}
	for _, tc := range []struct {
		name, path string
		form       url.Values
		want       reprocess.Filter
	}{
		{"reprocess page", "/reprocess/start", form(), want("2020-01-02T11:00:30Z")},
		{"bulk, all that match", "/quarantine/bulk/reprocess", form("scope", "all"), want("2020-01-02T11:00:30Z")},
		{"bulk, pinned before until", "/quarantine/bulk/reprocess", form("scope", "all", "pinned_until", "2020-01-02T10:30:00Z"), want("2020-01-02T10:30:00Z")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, h, tc.path, tc.form)
			require.Equal(t, http.StatusSeeOther, r.status, r.body)
			j := e.job(jobID(t, r.header.Get("Location")), func(j quarantine.Job) bool { return j.State != quarantine.JobRunning })
			var got reprocess.Filter
			require.NoError(t, json.Unmarshal(j.Filter, &got))
			require.True(t, tc.want.Since.Equal(got.Since), "since %v", got.Since)
			require.True(t, tc.want.Until.Equal(got.Until), "until %v", got.Until)
			got.Since, got.Until, tc.want.Since, tc.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			require.Equal(t, tc.want, got)
		})
	}
}
