package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// exportFixture is the API over real stores holding records whose key and
// payload try to break a CSV file or a spreadsheet: formulas, quotes,
// commas, line breaks, binary bytes.
type exportFixture struct {
	srv     *httptest.Server
	entries []quarantine.Entry // newest first
	values  [][]byte           // the payload of each entry
}

func newExportFixture(t *testing.T, mutate ...func(*httpapi.Options)) *exportFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "meta.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })

	values := [][]byte{
		[]byte(`=cmd|' /C calc'!A0`),
		[]byte("line one\nline \"two\", with a comma\r\nand a CR"),
		[]byte(`{"user_id":"<script>alert(1)</script>","n":-1}`),
		{0x00, 0xfb, 0xff, 0x10}, // base64 "APv/EA=="
		[]byte("+1-555-0100"),
		nil,
	}
	keys := [][]byte{[]byte("@SUM(A1:A9)"), []byte("-2+3"), []byte("user-1"), {0xff}, []byte("\tTAB"), nil}
	ps := make([]quarantine.Payload, len(values))
	for i, v := range values {
		ps[i] = quarantine.Payload{Value: v, Headers: []record.Header{{Key: "h", Value: []byte("=1+1")}}}
	}
	refs, err := payloads.WriteSegment(ctx, "seg", ps)
	require.NoError(t, err)
	f := &exportFixture{}
	for i := range values {
		e := entry("orders", 0, int64(i), base.Add(time.Duration(i)*time.Second))
		e.Key, e.Payload, e.PayloadSize = keys[i], refs[i], len(values[i])
		e.Errors[0].Message = "=HYPERLINK(\"http://evil\")"
		if i == 4 {
			e.ErrorType, e.ErrorField = record.TypeMismatch, "/amount"
		}
		f.entries = append([]quarantine.Entry{e}, f.entries...)
		f.values = append([][]byte{values[i]}, f.values...)
	}
	require.NoError(t, meta.Insert(ctx, f.entries))
	opts := httpapi.Options{Quarantine: meta, Payloads: payloads, Stats: noStats{}}
	for _, m := range mutate {
		m(&opts)
	}
	h, err := httpapi.New(opts)
	require.NoError(t, err)
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// export GETs an export and reads it to the end; a transfer broken off is
// an error.
func (f *exportFixture) export(t *testing.T, query string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/api/v1/quarantine/export" + query)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestExportJSONL(t *testing.T) {
	t.Parallel()
	f := newExportFixture(t)
	resp, body, err := f.export(t, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	require.Regexp(t, `^attachment; filename="quarantine-\d{8}T\d{6}Z\.jsonl"$`, resp.Header.Get("Content-Disposition"))
	require.Equal(t, "6", resp.Header.Get("X-Total-Count"))
	require.Empty(t, resp.Trailer.Get("X-Next-Cursor"))

	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	require.Len(t, lines, len(f.entries))
	for i, line := range lines {
		var got struct {
			ID              string  `json:"id"`
			Payload         *string `json:"payload"`
			PayloadEncoding *string `json:"payload_encoding"`
			Headers         []struct {
				Key string `json:"key"`
			} `json:"headers"`
			History *json.RawMessage `json:"history"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &got), line)
		require.Equal(t, f.entries[i].ID, got.ID, "newest first")
		require.Nil(t, got.History)
		want := f.values[i]
		switch {
		case want == nil:
			require.Nil(t, got.Payload)
		case *got.PayloadEncoding == "base64":
			b, err := base64.StdEncoding.DecodeString(*got.Payload)
			require.NoError(t, err)
			require.Equal(t, want, b)
		default:
			require.Equal(t, string(want), *got.Payload, "JSON Lines keeps values exact")
		}
		require.Len(t, got.Headers, 1)
	}
	require.NotContains(t, string(body), "<script>", "HTML-sensitive characters are escaped in JSON")
}

func TestExportCSV(t *testing.T) {
	t.Parallel()
	f := newExportFixture(t)
	resp, body, err := f.export(t, "?format=csv")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	require.True(t, strings.HasSuffix(resp.Header.Get("Content-Disposition"), `.csv"`))

	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err, "the file parses as CSV, whatever the payloads hold")
	require.Len(t, rows, 1+len(f.entries))
	head := rows[0]
	require.Equal(t, []string{
		"id", "quarantined_at", "source_topic", "source_partition", "source_offset", "timestamp",
		"key", "key_encoding", "subject", "schema_version", "status", "error_type", "error_field",
		"error_message", "errors", "payload_size", "payload", "payload_encoding", "payload_error",
	}, head)
	col := func(row []string, name string) string {
		for i, h := range head {
			if h == name {
				return row[i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	byID := map[string][]string{}
	for _, row := range rows[1:] {
		require.Len(t, row, len(head))
		byID[col(row, "id")] = row
		// No cell a spreadsheet would run as a formula.
		for i, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("column %s holds a formula: %q", head[i], c)
			}
		}
		require.Equal(t, `'=HYPERLINK("http://evil")`, col(row, "error_message"))
	}
	payload := func(i int) string { return col(byID[f.entries[i].ID], "payload") }
	key := func(i int) string { return col(byID[f.entries[i].ID], "key") }
	// entries are newest first: index 5 is the first value above.
	require.Equal(t, `'=cmd|' /C calc'!A0`, payload(5))
	require.Equal(t, "'@SUM(A1:A9)", key(5))
	require.Contains(t, string(body), "\"line one\nline \"\"two\"\", with a comma\r\nand a CR\"", "quotes, commas and line breaks are quoted, exact")
	require.Equal(t, "line one\nline \"two\", with a comma\nand a CR", payload(4), "(Go's reader folds CRLF in a field)")
	require.Equal(t, "'-2+3", key(4))
	require.Equal(t, `{"user_id":"<script>alert(1)</script>","n":-1}`, payload(3))
	require.Equal(t, "APv/EA==", payload(2))
	require.Equal(t, "base64", col(byID[f.entries[2].ID], "payload_encoding"))
	require.Equal(t, "'+1-555-0100", payload(1))
	require.Equal(t, "'\tTAB", key(1))
	require.Equal(t, "", payload(0))
	require.Equal(t, "5", col(byID[f.entries[0].ID], "source_offset"), "numbers are not quoted")
}

func TestExportFiltersLimitAndCursor(t *testing.T) {
	t.Parallel()
	f := newExportFixture(t)
	idsOf := func(body []byte) []string {
		var out []string
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			var it struct {
				ID string `json:"id"`
			}
			require.NoError(t, json.Unmarshal(sc.Bytes(), &it))
			out = append(out, it.ID)
		}
		return out
	}
	all := make([]string, len(f.entries))
	for i, e := range f.entries {
		all[i] = e.ID
	}

	resp, body, err := f.export(t, "?error_type=TYPE_MISMATCH")
	require.NoError(t, err)
	require.Equal(t, []string{f.entries[1].ID}, idsOf(body))
	require.Equal(t, "1", resp.Header.Get("X-Total-Count"))

	resp, body, err = f.export(t, "?q=CALC")
	require.NoError(t, err)
	require.Equal(t, []string{f.entries[5].ID}, idsOf(body), "q searches payloads")
	require.Empty(t, resp.Header.Get("X-Total-Count"), "a search is not counted ahead")
	_, body, err = f.export(t, "?q=user-1")
	require.NoError(t, err)
	require.Equal(t, []string{f.entries[3].ID}, idsOf(body), "and keys")

	// Paging by limit and the trailer's cursor gives every record once.
	var got []string
	query := "?limit=4"
	for range 5 {
		resp, body, err = f.export(t, query)
		require.NoError(t, err)
		require.Equal(t, "6", resp.Header.Get("X-Total-Count"))
		got = append(got, idsOf(body)...)
		next := resp.Trailer.Get("X-Next-Cursor")
		if next == "" {
			break
		}
		query = "?limit=4&cursor=" + next
	}
	require.Equal(t, all, got)

	// A limit that fits exactly leaves no cursor.
	resp, body, err = f.export(t, "?limit=6")
	require.NoError(t, err)
	require.Equal(t, all, idsOf(body))
	require.Empty(t, resp.Trailer.Get("X-Next-Cursor"))
}

func TestExportBadRequests(t *testing.T) {
	t.Parallel()
	f := newExportFixture(t)
	for _, q := range []string{
		"?format=xml", "?limit=0", "?limit=1000001", "?limit=x", "?cursor=garbage!", "?error_type=NOPE",
		"?status=gone", "?since=yesterday", "?format=csv&format=jsonl",
	} {
		resp, body, err := f.export(t, q)
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", q, body)
		require.Contains(t, string(body), `"code":"invalid_parameter"`, q)
	}
}

// A failure after the response has started breaks the transfer off: the
// client cannot take a cut file for a whole one.
func TestExportFailureBreaksTheTransferOff(t *testing.T) {
	t.Parallel()
	f := newExportFixture(t, func(o *httpapi.Options) { o.Payloads = failing{} })
	resp, _, err := f.export(t, "?format=csv")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// The export streams: its memory does not grow with the number of records.
// 50,000 records of 2 KB buffered would take over 100 MB; the heap stays far
// below.
func TestExportMemoryIsBounded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("exports 50,000 records")
	}
	const n = 50_000
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "meta.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })
	value := bytes.Repeat([]byte(`{"user_id":"USER000001","event_type":"scroll"},`), 43) // 2 KB
	refs, err := payloads.WriteSegment(ctx, "seg", []quarantine.Payload{{Value: value}})
	require.NoError(t, err)
	batch := make([]quarantine.Entry, 0, 5000)
	for i := range n {
		e := entry("orders", 0, int64(i), base.Add(time.Duration(i)*time.Millisecond))
		e.Payload, e.PayloadSize = refs[0], len(value)
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			require.NoError(t, meta.Insert(ctx, batch))
			batch = batch[:0]
		}
	}
	h, err := httpapi.New(httpapi.Options{Quarantine: meta, Payloads: payloads, Stats: noStats{}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	runtime.GC() // the inserts' garbage is not the export's
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	resp, err := http.Get(srv.URL + "/api/v1/quarantine/export?format=csv")
	require.NoError(t, err)
	defer resp.Body.Close()
	rows := 0
	r := csv.NewReader(resp.Body)
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		rows++
	}
	close(stop)
	<-sampled
	require.Equal(t, n+1, rows)
	require.Equal(t, strconv.Itoa(n), resp.Header.Get("X-Total-Count"))
	t.Logf("peak heap in use while exporting %d records (%d MB of CSV): %d MB", n, n*len(value)>>20, peak.Load()>>20)
	require.Less(t, peak.Load(), uint64(32<<20), "the heap grew with the export")
}
