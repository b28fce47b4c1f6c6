package quarantine_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// TestParseQueryErrors: the first parameter that does not read is named,
// with its value, and the filter keeps every text parameter.
func TestParseQueryErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, query string
		opts        quarantine.QueryOptions
		want        quarantine.QueryError
	}{
		{"error type", "error_type=NOPE&status=gone", quarantine.QueryOptions{}, quarantine.QueryError{Param: "error_type", Value: "NOPE", Reason: quarantine.QueryUnknown}},
		{"status", "status=gone&since=x", quarantine.QueryOptions{}, quarantine.QueryError{Param: "status", Value: "gone", Reason: quarantine.QueryUnknown}},
		{"since", "since=x&until=y", quarantine.QueryOptions{}, quarantine.QueryError{Param: "since", Value: "x", Reason: quarantine.QueryNotATime}},
		{"until", "until=2026-11-03T10:00", quarantine.QueryOptions{}, quarantine.QueryError{Param: "until", Value: "2026-11-03T10:00", Reason: quarantine.QueryNotATime}},
		{
			"order", "since=2026-11-03T10:00&until=2026-11-03T09:00&limit=0",
			quarantine.QueryOptions{TimeLayouts: []string{"2006-01-02T15:04"}, MaxLimit: 5},
			quarantine.QueryError{Param: "since", Value: "2026-11-03T10:00", Reason: quarantine.QuerySinceAfterUntil},
		},
		{"limit", "limit=6", quarantine.QueryOptions{MaxLimit: 5}, quarantine.QueryError{Param: "limit", Value: "6", Reason: quarantine.QueryLimitRange, MaxLimit: 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q, err := url.ParseQuery(c.query + "&topic=t")
			require.NoError(t, err)
			f, err := quarantine.ParseQuery(q, c.opts)
			var qe *quarantine.QueryError
			require.ErrorAs(t, err, &qe)
			require.Equal(t, c.want, *qe)
			require.Equal(t, "t", f.Topic)
		})
	}
}

// TestParseQueryLimit: without MaxLimit the limit parameter is not read.
func TestParseQueryLimit(t *testing.T) {
	t.Parallel()
	q := url.Values{"limit": {"7"}}
	f, err := quarantine.ParseQuery(q, quarantine.QueryOptions{})
	require.NoError(t, err)
	require.Equal(t, quarantine.DefaultLimit, f.Limit)
	f, err = quarantine.ParseQuery(q, quarantine.QueryOptions{MaxLimit: 10})
	require.NoError(t, err)
	require.Equal(t, 7, f.Limit)
	f, err = quarantine.ParseQuery(url.Values{}, quarantine.QueryOptions{MaxLimit: 10})
	require.NoError(t, err)
	require.Zero(t, f.Limit, "0: the store's DefaultLimit")
}
