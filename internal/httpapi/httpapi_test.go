package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var base = time.Date(2026, 11, 3, 10, 0, 0, 123456789, time.UTC)

// fakeStats is a fixed StatsSource.
type fakeStats httpapi.Stats

func (s fakeStats) Stats() httpapi.Stats { return httpapi.Stats(s) }

// fixture is an API over real stores seeded with a few records:
//
//	json       orders/0/10    utf-8 key, JSON payload, one header
//	binary     payments/1/20  binary key and payload, odd headers
//	tombstone  orders/0/11    nil key, nil value, no headers, no errors
//	lost       orders/2/30    payload ref into a segment that does not exist
//	corrupt    orders/2/31    payload ref misaligned inside its segment
type fixture struct {
	t       *testing.T
	h       http.Handler
	meta    *sqlite.Store
	logs    *bytes.Buffer
	json    quarantine.Entry
	binary  quarantine.Entry
	tomb    quarantine.Entry
	lost    quarantine.Entry
	corrupt quarantine.Entry
}

func newFixture(t *testing.T, mutate ...func(*httpapi.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "meta.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })

	f := &fixture{t: t, meta: meta, logs: &bytes.Buffer{}}
	refs, err := payloads.WriteSegment(ctx, "seg-1", []quarantine.Payload{
		{Value: []byte(`{"amount":12.5}`), Headers: []record.Header{{Key: "content-type", Value: []byte("application/json")}}},
		{Value: []byte{0x00, 0xff, 0x10, 0x80}, Headers: []record.Header{
			{Key: "trace", Value: []byte{0xde, 0xad, 0xbe, 0xef}},
			{Key: "null", Value: nil},
			{Key: "empty", Value: []byte{}},
			{Key: "trace", Value: []byte("<b>second</b>")},
		}},
		{Value: nil},
	})
	require.NoError(t, err)

	f.json = entry("orders", 0, 10, base)
	f.json.Key = []byte("user-1")
	f.json.Payload = refs[0]
	f.json.PayloadSize = 15

	f.binary = entry("payments", 1, 20, base.Add(time.Second))
	f.binary.Key = []byte{0xff, 0x00, 0x41}
	f.binary.Subject = "payments-value"
	f.binary.ErrorType = record.TypeMismatch
	f.binary.ErrorField = "/amount"
	f.binary.Errors = []record.Violation{
		{Type: record.TypeMismatch, Field: "/amount", Keyword: "type", Message: "expected number, but got string"},
		{Type: record.RuleViolation, Field: "", Keyword: "future_timestamp_check", Message: "Timestamp cannot be in future"},
	}
	f.binary.Status = quarantine.StatusReprocessed
	f.binary.Payload = refs[1]
	f.binary.PayloadSize = 4

	f.tomb = entry("orders", 0, 11, base.Add(2*time.Second))
	f.tomb.Key = nil
	f.tomb.Timestamp = time.Time{}
	f.tomb.ErrorType = record.ParseError
	f.tomb.ErrorField = ""
	f.tomb.Errors = nil
	f.tomb.Payload = refs[2]
	f.tomb.PayloadSize = 0

	f.lost = entry("orders", 2, 30, base.Add(3*time.Second))
	f.lost.Payload = quarantine.PayloadRef{Segment: "seg-missing", Offset: 8, Length: 20}

	f.corrupt = entry("orders", 2, 31, base.Add(4*time.Second))
	f.corrupt.Payload = quarantine.PayloadRef{Segment: "seg-1", Offset: refs[0].Offset + 1, Length: refs[0].Length}

	require.NoError(t, meta.Insert(ctx, []quarantine.Entry{f.json, f.binary, f.tomb, f.lost, f.corrupt}))

	opts := httpapi.Options{
		Quarantine: meta,
		Payloads:   payloads,
		Stats: fakeStats{
			Since:     base,
			Processed: 1000, Valid: 990, Invalid: 10,
			InvalidByErrorType: map[record.ErrorType]int64{record.MissingField: 7, record.ParseError: 3},
		},
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
	}
	for _, m := range mutate {
		m(&opts)
	}
	f.h, err = httpapi.New(opts)
	require.NoError(t, err)
	return f
}

func entry(topic string, partition int32, offset int64, qat time.Time) quarantine.Entry {
	return quarantine.Entry{
		ID:              record.ID(topic, partition, offset),
		SourceTopic:     topic,
		SourcePartition: partition,
		SourceOffset:    offset,
		Key:             []byte("k"),
		Timestamp:       qat.Add(-time.Minute),
		QuarantinedAt:   qat,
		Subject:         "orders-value",
		SchemaVersion:   2,
		ErrorType:       record.MissingField,
		ErrorField:      "/user_id",
		Errors: []record.Violation{
			{Type: record.MissingField, Field: "/user_id", Keyword: "required", Message: "missing property 'user_id'"},
		},
		PayloadSize: 10,
		Status:      quarantine.StatusQuarantined,
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(method, target string) response {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return response{rec.Code, rec.Header(), rec.Body.String()}
}

// get requests target and checks the status and that the body is JSON.
func (f *fixture) get(target string, wantStatus int) response {
	f.t.Helper()
	r := f.do(http.MethodGet, target)
	require.Equal(f.t, wantStatus, r.status, "GET %s: %s", target, r.body)
	require.Equal(f.t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
	require.Equal(f.t, "nosniff", r.header.Get("X-Content-Type-Options"))
	require.True(f.t, json.Valid([]byte(r.body)), r.body)
	return r
}

func TestNewRequiresOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := map[string]func(*httpapi.Options){
		"Quarantine": func(o *httpapi.Options) { o.Quarantine = nil },
		"Payloads":   func(o *httpapi.Options) { o.Payloads = nil },
		"Stats":      func(o *httpapi.Options) { o.Stats = nil },
	}
	for name, mutate := range cases {
		opts := httpapi.Options{Quarantine: f.meta, Payloads: nopPayloads{}, Stats: fakeStats{}}
		mutate(&opts)
		_, err := httpapi.New(opts)
		require.ErrorContains(t, err, "Options."+name+" is required")
	}
}

type nopPayloads struct{}

func (nopPayloads) Read(context.Context, quarantine.PayloadRef) (quarantine.Payload, error) {
	return quarantine.Payload{}, quarantine.ErrNotFound
}

func TestHealth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.JSONEq(t, `{"status":"ok"}`, f.get("/healthz", http.StatusOK).body)
	require.JSONEq(t, `{"status":"ready"}`, f.get("/readyz", http.StatusOK).body, "ready by default")
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	h := httpapi.Health{Reason: "stalled", Pipeline: &httpapi.PipelineHealth{
		LastCommit: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), SecondsSinceLastCommit: 300, UncommittedSeconds: 290, Lag: 42, Stalled: true,
	}}
	f := newFixture(t, func(o *httpapi.Options) { o.Health = func() httpapi.Health { return h } })
	const detail = `"reason":"stalled","pipeline":{"last_commit":"2026-12-07T12:00:00Z","seconds_since_last_commit":300,"uncommitted_seconds":290,"lag":42,"stalled":true}`
	require.JSONEq(t, `{"status":"not ready",`+detail+`}`, f.get("/readyz", http.StatusServiceUnavailable).body)
	require.JSONEq(t, `{"status":"ok",`+detail+`}`, f.get("/healthz", http.StatusOK).body, "alive, with the detail")
	h = httpapi.Health{Ready: true}
	require.JSONEq(t, `{"status":"ready"}`, f.get("/readyz", http.StatusOK).body)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	t.Run("delegated", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *httpapi.Options) {
			o.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; version=0.0.4")
				fmt.Fprintf(w, "records_processed_total 1000\n")
			})
		})
		r := f.do(http.MethodGet, "/metrics")
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "text/plain; version=0.0.4", r.header.Get("Content-Type"))
		require.Equal(t, "records_processed_total 1000\n", r.body)
		f.get("/metrics/x", http.StatusNotFound)
	})
	t.Run("absent", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		require.JSONEq(t, `{"error":{"code":"not_found","message":"no such endpoint: /metrics"}}`,
			f.get("/metrics", http.StatusNotFound).body)
	})
}

func TestStats(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.JSONEq(t, `{
		"since": "2026-11-03T10:00:00.123456789Z",
		"processed": 1000,
		"valid": 990,
		"invalid": 10,
		"invalid_by_error_type": {
			"PARSE_ERROR": 3, "DECODE_ERROR": 0, "PAYLOAD_TOO_LARGE": 0, "SCHEMA_NOT_FOUND": 0,
			"MISSING_FIELD": 7, "TYPE_MISMATCH": 0, "PATTERN_MISMATCH": 0, "ENUM_VIOLATION": 0,
			"CONST_VIOLATION": 0, "FORMAT_VIOLATION": 0, "RANGE_VIOLATION": 0, "LENGTH_VIOLATION": 0,
			"UNKNOWN_FIELD": 0, "RULE_VIOLATION": 0, "SCHEMA_VIOLATION": 0
		}
	}`, f.get("/api/v1/stats", http.StatusOK).body)

	empty := newFixture(t, func(o *httpapi.Options) { o.Stats = fakeStats{} })
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(empty.get("/api/v1/stats", http.StatusOK).body), &got))
	require.Nil(t, got["since"])
	require.Len(t, got["invalid_by_error_type"], len(record.ErrorTypes))
}

// itemJSON is the expected list item of the json fixture entry.
func itemJSON(f *fixture) string {
	return fmt.Sprintf(`{
		"id": %q,
		"source_topic": "orders",
		"source_partition": 0,
		"source_offset": 10,
		"key": "user-1",
		"key_encoding": "utf-8",
		"timestamp": "2026-11-03T09:59:00.123456789Z",
		"subject": "orders-value",
		"schema_version": 2,
		"error_type": "MISSING_FIELD",
		"error_field": "/user_id",
		"errors": [{"type": "MISSING_FIELD", "field": "/user_id", "keyword": "required", "message": "missing property 'user_id'"}],
		"quarantined_at": "2026-11-03T10:00:00.123456789Z",
		"status": "quarantined",
		"payload_size": 15,
		"status_changed_at": null, "status_actor": "", "status_reason": "", "job": "", "replay_count": 0, "corrected": false
	}`, f.json.ID)
}

func TestGetDetail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	t.Run("utf-8", func(t *testing.T) {
		t.Parallel()
		want := strings.TrimSuffix(strings.TrimSpace(itemJSON(f)), "}") + `,
			"payload": "{\"amount\":12.5}",
			"payload_encoding": "utf-8",
			"headers": [{"key": "content-type", "value": "application/json", "value_encoding": "utf-8"}],
			"payload_error": null
		}`
		require.JSONEq(t, want, f.get("/api/v1/quarantine/"+f.json.ID, http.StatusOK).body)
	})
	t.Run("binary", func(t *testing.T) {
		t.Parallel()
		require.JSONEq(t, fmt.Sprintf(`{
			"id": %q,
			"source_topic": "payments",
			"source_partition": 1,
			"source_offset": 20,
			"key": "/wBB",
			"key_encoding": "base64",
			"timestamp": "2026-11-03T09:59:01.123456789Z",
			"subject": "payments-value",
			"schema_version": 2,
			"error_type": "TYPE_MISMATCH",
			"error_field": "/amount",
			"errors": [
				{"type": "TYPE_MISMATCH", "field": "/amount", "keyword": "type", "message": "expected number, but got string"},
				{"type": "RULE_VIOLATION", "field": "", "keyword": "future_timestamp_check", "message": "Timestamp cannot be in future"}
			],
			"quarantined_at": "2026-11-03T10:00:01.123456789Z",
			"status": "reprocessed",
			"payload_size": 4,
			"status_changed_at": null, "status_actor": "", "status_reason": "", "job": "", "replay_count": 0, "corrected": false,
			"payload": "AP8QgA==",
			"payload_encoding": "base64",
			"headers": [
				{"key": "trace", "value": "3q2+7w==", "value_encoding": "base64"},
				{"key": "null", "value": null, "value_encoding": null},
				{"key": "empty", "value": "", "value_encoding": "utf-8"},
				{"key": "trace", "value": "<b>second</b>", "value_encoding": "utf-8"}
			],
			"payload_error": null
		}`, f.binary.ID), f.get("/api/v1/quarantine/"+f.binary.ID, http.StatusOK).body)
	})
	t.Run("tombstone", func(t *testing.T) {
		t.Parallel()
		require.JSONEq(t, fmt.Sprintf(`{
			"id": %q,
			"source_topic": "orders",
			"source_partition": 0,
			"source_offset": 11,
			"key": null,
			"key_encoding": null,
			"timestamp": null,
			"subject": "orders-value",
			"schema_version": 2,
			"error_type": "PARSE_ERROR",
			"error_field": "",
			"errors": [],
			"quarantined_at": "2026-11-03T10:00:02.123456789Z",
			"status": "quarantined",
			"payload_size": 0,
			"status_changed_at": null, "status_actor": "", "status_reason": "", "job": "", "replay_count": 0, "corrected": false,
			"payload": null,
			"payload_encoding": null,
			"headers": [],
			"payload_error": null
		}`, f.tomb.ID), f.get("/api/v1/quarantine/"+f.tomb.ID, http.StatusOK).body)
	})
	t.Run("payload missing or damaged", func(t *testing.T) {
		t.Parallel()
		for e, reason := range map[*quarantine.Entry]string{&f.lost: "not_found", &f.corrupt: "corrupt"} {
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(f.get("/api/v1/quarantine/"+e.ID, http.StatusOK).body), &got))
			require.Equal(t, e.ID, got["id"], "the metadata is still served")
			require.Equal(t, reason, got["payload_error"])
			require.Nil(t, got["payload"])
			require.Nil(t, got["payload_encoding"])
			require.Equal(t, []any{}, got["headers"])
		}
	})
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		require.JSONEq(t, `{"error":{"code":"not_found","message":"no quarantined record with id \"0123456789abcdef0123456789abcdef\""}}`,
			f.get("/api/v1/quarantine/0123456789abcdef0123456789abcdef", http.StatusNotFound).body)
		f.get("/api/v1/quarantine/"+url.PathEscape("a b/"), http.StatusNotFound)
	})
}

// ids decodes a list response's item ids and next cursor.
func ids(t *testing.T, body string) ([]string, *string) {
	t.Helper()
	var resp struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &resp))
	require.NotNil(t, resp.Items, "items is never null")
	out := make([]string, len(resp.Items))
	for i, it := range resp.Items {
		out[i] = it.ID
	}
	return out, resp.NextCursor
}

func TestList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("exact", func(t *testing.T) {
		t.Parallel()
		body := f.get("/api/v1/quarantine?topic=orders&error_type=MISSING_FIELD&limit=1&until=2026-11-03T10:00:03Z", http.StatusOK).body
		var resp struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &resp))
		require.Len(t, resp.Items, 1)
		require.JSONEq(t, itemJSON(f), string(resp.Items[0]))
		require.Nil(t, resp.NextCursor)
		require.JSONEq(t, `{"items":[`+itemJSON(f)+`],"next_cursor":null}`, body)
	})

	t.Run("search reports how many it read", func(t *testing.T) {
		t.Parallel()
		var resp struct {
			Scanned *int `json:"scanned"`
		}
		require.NoError(t, json.Unmarshal([]byte(f.get("/api/v1/quarantine?q=amount&topic=orders", http.StatusOK).body), &resp))
		require.NotNil(t, resp.Scanned)
		require.Equal(t, 4, *resp.Scanned)
		require.NotContains(t, f.get("/api/v1/quarantine", http.StatusOK).body, "scanned")
	})

	all := []string{f.corrupt.ID, f.lost.ID, f.tomb.ID, f.binary.ID, f.json.ID}
	cases := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"?limit=1000", all},
		{"?error_type=TYPE_MISMATCH", []string{f.binary.ID}},
		{"?error_type=RULE_VIOLATION", []string{}},
		{"?field=/amount", []string{f.binary.ID}},
		{"?field=", all},
		{"?topic=payments", []string{f.binary.ID}},
		{"?topic=nope", []string{}},
		{"?subject=payments-value", []string{f.binary.ID}},
		{"?status=reprocessed", []string{f.binary.ID}},
		{"?status=quarantined", []string{f.corrupt.ID, f.lost.ID, f.tomb.ID, f.json.ID}},
		{"?since=2026-11-03T10:00:02.123456789Z", []string{f.corrupt.ID, f.lost.ID, f.tomb.ID}},
		{"?since=2026-11-03T10:00:02.123456790Z", []string{f.corrupt.ID, f.lost.ID}},
		{"?until=2026-11-03T10:00:01.123456789Z", []string{f.json.ID}},
		{"?until=2026-11-03T11:00:01.123456789%2B01:00", []string{f.json.ID}},
		{"?since=2026-11-03T10:00:01Z&until=2026-11-03T10:00:03Z", []string{f.tomb.ID, f.binary.ID}},
		{"?topic=orders&error_type=MISSING_FIELD&status=quarantined&field=/user_id&subject=orders-value", []string{f.corrupt.ID, f.lost.ID, f.json.ID}},
		{"?error_type=&status=&since=&until=&limit=&cursor=", all},
		{"?unknown=1", all},
		// Full-text search in keys and payloads, ignoring case; a lost or
		// damaged payload does not match.
		{"?q=AMOUNT", []string{f.json.ID}},
		{"?q=user-1", []string{f.json.ID}},
		{"?q=amount&topic=payments", []string{}},
		{"?q=nowhere", []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			got, next := ids(t, f.get("/api/v1/quarantine"+tc.query, http.StatusOK).body)
			require.Equal(t, tc.want, got)
			require.Nil(t, next)
		})
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Add enough rows for pages: 7 more, all sharing one QuarantinedAt, so
	// pages split ties.
	var more []quarantine.Entry
	for i := range 7 {
		more = append(more, entry("bulk", 0, int64(i), base.Add(time.Hour)))
	}
	require.NoError(t, f.meta.Insert(context.Background(), more))

	full, next := ids(t, f.get("/api/v1/quarantine?limit=1000", http.StatusOK).body)
	require.Nil(t, next)
	require.Len(t, full, 12)

	for _, limit := range []int{1, 2, 5, 11, 12} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			var got []string
			target := fmt.Sprintf("/api/v1/quarantine?limit=%d", limit)
			for pages := 1; ; pages++ {
				page, next := ids(t, f.get(target, http.StatusOK).body)
				require.LessOrEqual(t, len(page), limit)
				got = append(got, page...)
				if next == nil {
					require.Equal(t, (len(full)+limit-1)/limit, pages)
					break
				}
				require.NotEmpty(t, *next)
				target = fmt.Sprintf("/api/v1/quarantine?limit=%d&cursor=%s", limit, url.QueryEscape(*next))
			}
			require.Equal(t, full, got, "no duplicates, no gaps")
		})
	}

	t.Run("with a filter", func(t *testing.T) {
		t.Parallel()
		want, _ := ids(t, f.get("/api/v1/quarantine?topic=orders", http.StatusOK).body)
		require.Len(t, want, 4)
		first, next := ids(t, f.get("/api/v1/quarantine?topic=orders&limit=3", http.StatusOK).body)
		require.NotNil(t, next)
		rest, next2 := ids(t, f.get("/api/v1/quarantine?topic=orders&limit=3&cursor="+url.QueryEscape(*next), http.StatusOK).body)
		require.Nil(t, next2)
		require.Equal(t, want, append(first, rest...))
	})

	t.Run("default limit", func(t *testing.T) {
		t.Parallel()
		got, next := ids(t, f.get("/api/v1/quarantine", http.StatusOK).body)
		require.Len(t, got, 12) // below DefaultLimit
		require.Nil(t, next)
	})
}

func TestListInvalidParameters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		query, message string
	}{
		{"error_type=NOPE", `invalid error_type "NOPE": must be one of PARSE_ERROR, DECODE_ERROR, PAYLOAD_TOO_LARGE, SCHEMA_NOT_FOUND, MISSING_FIELD, TYPE_MISMATCH, PATTERN_MISMATCH, ENUM_VIOLATION, CONST_VIOLATION, FORMAT_VIOLATION, RANGE_VIOLATION, LENGTH_VIOLATION, UNKNOWN_FIELD, RULE_VIOLATION, SCHEMA_VIOLATION`},
		{"error_type=missing_field", `invalid error_type "missing_field": must be one of PARSE_ERROR, DECODE_ERROR, PAYLOAD_TOO_LARGE, SCHEMA_NOT_FOUND, MISSING_FIELD, TYPE_MISMATCH, PATTERN_MISMATCH, ENUM_VIOLATION, CONST_VIOLATION, FORMAT_VIOLATION, RANGE_VIOLATION, LENGTH_VIOLATION, UNKNOWN_FIELD, RULE_VIOLATION, SCHEMA_VIOLATION`},
		{"status=deleted", `invalid status "deleted": must be one of quarantined, reprocessing, reprocessed, failed_again, discarded, observed`},
		{"since=yesterday", `invalid since "yesterday": must be an RFC 3339 time such as 2026-11-03T10:00:00Z`},
		{"since=2026-11-03", `invalid since "2026-11-03": must be an RFC 3339 time such as 2026-11-03T10:00:00Z`},
		{"until=2026-11-03T10:00:00", `invalid until "2026-11-03T10:00:00": must be an RFC 3339 time such as 2026-11-03T10:00:00Z`},
		{"until=1700000000", `invalid until "1700000000": must be an RFC 3339 time such as 2026-11-03T10:00:00Z`},
		{"since=2026-11-03T11:00:00Z&until=2026-11-03T10:00:00Z", `invalid since: it is after until`},
		{"limit=0", `invalid limit "0": must be an integer from 1 to 1000`},
		{"limit=1001", `invalid limit "1001": must be an integer from 1 to 1000`},
		{"limit=-1", `invalid limit "-1": must be an integer from 1 to 1000`},
		{"limit=ten", `invalid limit "ten": must be an integer from 1 to 1000`},
		{"limit=1.5", `invalid limit "1.5": must be an integer from 1 to 1000`},
		{"limit=99999999999999999999", `invalid limit "99999999999999999999": must be an integer from 1 to 1000`},
		{"limit=1&limit=2", `parameter limit is given 2 times; give it at most once`},
		{"topic=a&topic=b", `parameter topic is given 2 times; give it at most once`},
		{"cursor=garbage!", `invalid cursor: use the next_cursor of a previous page`},
		{"cursor=AAAA", `invalid cursor: use the next_cursor of a previous page`},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			body := f.get("/api/v1/quarantine?"+tc.query, http.StatusBadRequest).body
			want, err := json.Marshal(map[string]any{"error": map[string]string{"code": "invalid_parameter", "message": tc.message}})
			require.NoError(t, err)
			require.JSONEq(t, string(want), body)
		})
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		method, target string
		status         int
		code           string
		allow          string
	}{
		{http.MethodGet, "/api/v1/nope", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/api/v2/quarantine", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/api/v1/quarantine/", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/api/v1/quarantine/x/y", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/nope", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/healthz/", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/api/v1/quarantine", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodDelete, "/api/v1/quarantine/" + f.json.ID, http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodPut, "/api/v1/stats", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			t.Parallel()
			r := f.do(tc.method, tc.target)
			require.Equal(t, tc.status, r.status, r.body)
			require.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.body), &body))
			require.Equal(t, tc.code, body.Error.Code)
			require.NotEmpty(t, body.Error.Message)
			require.Equal(t, tc.allow, r.header.Get("Allow"))
		})
	}
	t.Run("exact 405", func(t *testing.T) {
		t.Parallel()
		require.JSONEq(t, `{"error":{"code":"method_not_allowed","message":"method POST is not allowed on /api/v1/stats"}}`,
			f.do(http.MethodPost, "/api/v1/stats").body)
	})
	t.Run("HEAD", func(t *testing.T) {
		t.Parallel()
		r := f.do(http.MethodHead, "/healthz")
		require.Equal(t, http.StatusOK, r.status)
	})
	t.Run("unclean path redirects", func(t *testing.T) {
		t.Parallel()
		r := f.do(http.MethodGet, "/api/v1//stats")
		require.Contains(t, []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}, r.status)
		require.Equal(t, "/api/v1/stats", r.header.Get("Location"))
	})
}

// failing is a store that fails with an internal error.
type failing struct{}

var errSecret = errors.New("disk I/O error at /var/lib/secret.db")

func (failing) Get(context.Context, string) (quarantine.Entry, error) {
	return quarantine.Entry{}, errSecret
}

func (failing) List(context.Context, quarantine.Filter) (quarantine.Page, error) {
	return quarantine.Page{}, errSecret
}

func (failing) Count(context.Context, quarantine.Filter) (int64, error) { return 0, errSecret }

func (failing) Read(context.Context, quarantine.PayloadRef) (quarantine.Payload, error) {
	return quarantine.Payload{}, errSecret
}

func TestInternalErrors(t *testing.T) {
	t.Parallel()
	const want = `{"error":{"code":"internal","message":"internal server error"}}`
	t.Run("metadata", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *httpapi.Options) { o.Quarantine = failing{} })
		require.JSONEq(t, want, f.get("/api/v1/quarantine", http.StatusInternalServerError).body)
		require.JSONEq(t, want, f.get("/api/v1/quarantine/x", http.StatusInternalServerError).body)
		logs := f.logs.String()
		require.Equal(t, 2, strings.Count(logs, "level=ERROR"), logs)
		require.Contains(t, logs, "secret.db", "the cause is logged")
	})
	t.Run("payload", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *httpapi.Options) { o.Payloads = failing{} })
		require.JSONEq(t, want, f.get("/api/v1/quarantine/"+f.json.ID, http.StatusInternalServerError).body)
		require.Equal(t, 1, strings.Count(f.logs.String(), "level=ERROR"))
	})
	t.Run("panic", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *httpapi.Options) { o.Stats = panicking{} })
		require.JSONEq(t, want, f.get("/api/v1/stats", http.StatusInternalServerError).body)
		require.Contains(t, f.logs.String(), "stats exploded")
	})
}

type panicking struct{}

func (panicking) Stats() httpapi.Stats { panic("stats exploded") }

// TestOverHTTP runs a real server and client: paging through next_cursor as
// a client would, with the cursor round-tripping through a URL.
func TestOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)
	client := srv.Client()
	t.Cleanup(client.CloseIdleConnections)

	get := func(target string) string {
		t.Helper()
		resp, err := client.Get(srv.URL + target)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		return string(b)
	}
	var got []string
	target := "/api/v1/quarantine?limit=2"
	for {
		page, next := ids(t, get(target))
		got = append(got, page...)
		if next == nil {
			break
		}
		target = "/api/v1/quarantine?limit=2&cursor=" + url.QueryEscape(*next)
	}
	require.Equal(t, []string{f.corrupt.ID, f.lost.ID, f.tomb.ID, f.binary.ID, f.json.ID}, got)
	require.JSONEq(t, `{"status":"ok"}`, get("/healthz"))
}
