package httpapi

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// TestParseFilter pins what the list's query parser reads; its messages are
// pinned end to end by TestListInvalidParameters.
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
		{"empty", "", quarantine.Filter{}, ""},
		{
			"every parameter",
			"error_type=MISSING_FIELD&status=failed_again&field=/a&topic=t&subject=s&cursor=c&limit=7&since=2026-11-03T10:00:00Z&until=2026-11-03T11:00:30.5%2B01:00",
			quarantine.Filter{
				ErrorType: record.MissingField, Status: quarantine.StatusFailedAgain, Field: "/a", Topic: "t", Subject: "s",
				Cursor: "c", Limit: 7, Since: at("2026-11-03T10:00:00Z"), Until: at("2026-11-03T10:00:30.5Z"),
			},
			"",
		},
		{"limit at most", "limit=1000", quarantine.Filter{Limit: quarantine.MaxLimit}, ""},
		{"local time", "since=2026-11-03T10:00", quarantine.Filter{}, `invalid since "2026-11-03T10:00": must be an RFC 3339 time such as 2026-11-03T10:00:00Z`},
		{"repeated", "topic=a&topic=b", quarantine.Filter{}, "parameter topic is given 2 times; give it at most once"},
		{"repeated first", "status=x&error_type=a&error_type=b", quarantine.Filter{}, "parameter error_type is given 2 times; give it at most once"},
		{"unknown error type before status", "error_type=NOPE&status=gone", quarantine.Filter{ErrorType: "NOPE"}, `invalid error_type "NOPE": must be one of ` + joinStrings(record.ErrorTypes)},
		{"unknown status before times", "status=gone&since=x", quarantine.Filter{Status: "gone"}, `invalid status "gone": must be one of ` + joinStrings(quarantine.Statuses)},
		{"since before until", "since=x&until=y", quarantine.Filter{}, `invalid since "x": must be an RFC 3339 time such as 2026-11-03T10:00:00Z`},
		{"order before limit", "since=2026-11-03T11:00:00Z&until=2026-11-03T10:00:00Z&limit=0", quarantine.Filter{}, "invalid since: it is after until"},
		{"limit", "limit=0", quarantine.Filter{}, `invalid limit "0": must be an integer from 1 to 1000`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q, err := url.ParseQuery(c.query)
			require.NoError(t, err)
			f, problem := parseFilter(q)
			require.Equal(t, c.problem, problem)
			if problem != "" {
				return // the handlers read no filter with a problem
			}
			require.True(t, c.want.Since.Equal(f.Since), "since %v, want %v", f.Since, c.want.Since)
			require.True(t, c.want.Until.Equal(f.Until), "until %v, want %v", f.Until, c.want.Until)
			f.Since, f.Until, c.want.Since, c.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			require.Equal(t, c.want, f)
		})
	}
}

// TestParseAuditFilter pins the audit query's parser: the list's page
// parameters and messages, its own limit, and no quarantine parameter.
func TestParseAuditFilter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, query string
		want        audit.Filter
		problem     string
	}{
		{"empty", "", audit.Filter{}, ""},
		{
			"every parameter",
			"target=quarantine/x&action=a&actor=bob&cursor=c&limit=1000&since=2026-11-03T10:00:00Z&until=2026-11-03T11:00:00Z",
			audit.Filter{
				Target: "quarantine/x", Action: "a", Actor: "bob", Cursor: "c", Limit: 1000,
				Since: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 3, 11, 0, 0, 0, time.UTC),
			},
			"",
		},
		{"quarantine parameters are not read", "status=gone&error_type=NOPE", audit.Filter{}, ""},
		{"repeated", "actor=a&actor=b", audit.Filter{}, "parameter actor is given 2 times; give it at most once"},
		{"bad until", "until=2026-11-03", audit.Filter{}, `invalid until "2026-11-03": must be an RFC 3339 time such as 2026-11-03T10:00:00Z`},
		{"order", "since=2026-11-03T11:00:00Z&until=2026-11-03T10:00:00Z", audit.Filter{}, "invalid since: it is after until"},
		{"limit", "limit=1001", audit.Filter{}, `invalid limit "1001": must be an integer from 1 to 1000`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q, err := url.ParseQuery(c.query)
			require.NoError(t, err)
			f, problem := parseAuditFilter(q)
			require.Equal(t, c.problem, problem)
			if problem != "" {
				return
			}
			require.True(t, c.want.Since.Equal(f.Since))
			require.True(t, c.want.Until.Equal(f.Until))
			f.Since, f.Until, c.want.Since, c.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			require.Equal(t, c.want, f)
		})
	}
}
