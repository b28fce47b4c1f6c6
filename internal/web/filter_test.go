package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// TestParseFilter pins what the browser's query parser reads and the
// messages it gives, the filter it returns with a problem included (the
// list page's "filtered" note reads it).
func TestParseFilter(t *testing.T) {
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
			f, problem := parseFilter(q)
			require.Equal(t, c.problem, problem)
			require.True(t, c.want.Since.Equal(f.Since), "since %v, want %v", f.Since, c.want.Since)
			require.True(t, c.want.Until.Equal(f.Until), "until %v, want %v", f.Until, c.want.Until)
			f.Since, f.Until, c.want.Since, c.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			require.Equal(t, c.want, f)
		})
	}
}
