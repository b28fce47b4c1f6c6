package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

const (
	rpRaw   = "raw-events"
	rpClean = "validated-events"
)

// rpFixture is the API over real stores, a real reprocess Service and an
// in-process broker, seeded with four quarantined records of which the
// current schema accepts two (pass0, pass1).
type rpFixture struct {
	t       *testing.T
	h       http.Handler
	meta    *sqlite.Store
	addr    string
	entries []quarantine.Entry
}

func newRPFixture(t *testing.T) *rpFixture {
	t.Helper()
	ctx := context.Background()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, rpRaw, rpClean))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })
	v, err := formats.Compile(schema.FormatJSON, "ev", 1, []byte(`{"type":"object","required":["user_id"]}`), formats.Options{})
	require.NoError(t, err)
	res, err := schema.NewStatic(map[string]string{rpRaw: "ev"}, []*schema.Version{v})
	require.NoError(t, err)
	engine, err := validate.New(validate.Options{Resolver: res})
	require.NoError(t, err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()[0]))
	require.NoError(t, err)
	t.Cleanup(cl.Close)

	values := [][]byte{[]byte(`{"user_id":"a"}`), []byte(`{"user_id":"b"}`), []byte(`{}`), []byte(`{"x":1}`)}
	ps := make([]quarantine.Payload, len(values))
	for i, v := range values {
		ps[i] = quarantine.Payload{Value: v}
	}
	refs, err := payloads.WriteSegment(ctx, "seg", ps)
	require.NoError(t, err)
	f := &rpFixture{t: t, meta: meta, addr: c.ListenAddrs()[0]}
	for i := range values {
		e := entry(rpRaw, 0, int64(i), base.Add(time.Duration(i)*time.Second))
		e.Payload, e.PayloadSize = refs[i], len(values[i])
		f.entries = append(f.entries, e)
	}
	require.NoError(t, meta.Insert(ctx, f.entries))

	svc, err := reprocess.New(reprocess.Options{
		Store: meta, Payloads: payloads, Validator: engine, Publisher: cl, CleanTopic: rpClean,
		Audit: meta.AuditLog(), MaxPayloadBytes: 64, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	h, err := httpapi.New(httpapi.Options{
		Quarantine: meta, Payloads: payloads, Stats: noStats{}, Reprocess: svc, Audit: meta.AuditLog(),
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	// What the auth middleware does: put the caller in the context.
	f.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(httpapi.WithPrincipal(r.Context(), httpapi.Principal{Name: "alice", Role: "operator"})))
	})
	return f
}

// call sends body (JSON text, or "" for none) and checks the status.
func (f *rpFixture) call(method, target, body string, wantStatus int) map[string]any {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	require.Equal(f.t, wantStatus, rec.Code, "%s %s: %s", method, target, rec.Body.String())
	require.Equal(f.t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	var got map[string]any
	require.NoError(f.t, json.Unmarshal(rec.Body.Bytes(), &got), rec.Body.String())
	return got
}

func (f *rpFixture) errorCode(method, target, body string, wantStatus int) string {
	f.t.Helper()
	got := f.call(method, target, body, wantStatus)
	e, ok := got["error"].(map[string]any)
	require.True(f.t, ok, "%v", got)
	require.NotEmpty(f.t, e["message"])
	return e["code"].(string)
}

// waitJob polls the job endpoint until the job has ended.
func (f *rpFixture) waitJob(id string) map[string]any {
	f.t.Helper()
	var got map[string]any
	testwait.For(f.t, 10*time.Second, "the job to end", func() error {
		if got = f.call(http.MethodGet, "/api/v1/reprocess/"+id, "", http.StatusOK); got["state"] == "running" {
			return errors.New("still running")
		}
		return nil
	})
	return got
}

func (f *rpFixture) published() []*kgo.Record {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.ConsumeTopics(rpClean),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(f.t, err)
	defer cl.Close()
	// The jobs have ended, so everything is in the log, up to its end.
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, rpClean)
	require.NoError(f.t, err)
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	var out []*kgo.Record
	for int64(len(out)) < total {
		fs := cl.PollFetches(ctx)
		require.NoError(f.t, fs.Err())
		out = append(out, fs.Records()...)
	}
	return out
}

func TestReprocessDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []struct{ method, target string }{
		{http.MethodPost, "/api/v1/reprocess"},
		{http.MethodGet, "/api/v1/reprocess/j"},
		{http.MethodGet, "/api/v1/reprocess"},
		{http.MethodPost, "/api/v1/quarantine/" + f.json.ID + "/reprocess"},
		{http.MethodPost, "/api/v1/quarantine/" + f.json.ID + "/discard"},
		{http.MethodPut, "/api/v1/quarantine/" + f.json.ID + "/payload"},
		{http.MethodPost, "/api/v1/quarantine/" + f.json.ID + "/validate"},
		{http.MethodGet, "/api/v1/audit"},
	} {
		r := f.do(c.method, c.target)
		require.Equal(t, http.StatusNotFound, r.status, "%s %s", c.method, c.target)
		require.Contains(t, r.body, `"code":"not_found"`)
	}
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(f.get("/api/v1/quarantine/"+f.json.ID, http.StatusOK).body), &got))
	require.NotContains(t, got, "history")
}

func TestReprocessFilterRun(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)

	dry := f.call(http.MethodPost, "/api/v1/reprocess", `{"filter": {"topic": "raw-events"}, "dry_run": true}`, http.StatusOK)
	require.Equal(t, 4.0, dry["matched"])
	require.Equal(t, 2.0, dry["would_pass"])
	require.Equal(t, 2.0, dry["would_fail"])
	samples := dry["sample_failures"].([]any)
	require.Len(t, samples, 2)
	require.Equal(t, f.entries[3].ID, samples[0].(map[string]any)["id"])
	require.Equal(t, "MISSING_FIELD", samples[0].(map[string]any)["errors"].([]any)[0].(map[string]any)["type"])

	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/reprocess",
		strings.NewReader(`{"filter": {"since": "2026-11-03T00:00:00Z"}, "target": "clean", "reason": "schema relaxed"}`)))
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var started struct{ Job string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &started))
	require.NotEmpty(t, started.Job)
	require.Equal(t, "/api/v1/reprocess/"+started.Job, rec.Header().Get("Location"))

	job := f.waitJob(started.Job)
	require.Equal(t, "done", job["state"])
	require.Equal(t, []any{4.0, 2.0, 2.0, 0.0}, []any{job["matched"], job["passed"], job["failed"], job["skipped"]})
	require.Equal(t, "alice", job["actor"])
	require.Equal(t, "schema relaxed", job["reason"])
	require.Equal(t, "clean", job["target"])
	require.Nil(t, job["error"])

	got := f.published()
	require.Len(t, got, 2)
	for _, r := range got {
		require.Equal(t, "1", string(r.Headers[len(r.Headers)-1].Value))
	}

	detail := f.call(http.MethodGet, "/api/v1/quarantine/"+f.entries[0].ID, "", http.StatusOK)
	require.Equal(t, "reprocessed", detail["status"])
	require.Equal(t, "alice", detail["status_actor"])
	require.Equal(t, "schema relaxed", detail["status_reason"])
	require.Equal(t, started.Job, detail["job"])
	require.Equal(t, 1.0, detail["replay_count"])
	require.NotNil(t, detail["status_changed_at"])
	history := detail["history"].([]any)
	require.Len(t, history, 1)
	ev := history[0].(map[string]any)
	require.Equal(t, "quarantine.reprocess", ev["action"])
	require.Equal(t, "alice", ev["actor"])
	require.Equal(t, "operator", ev["role"])
	require.Equal(t, started.Job, ev["details"].(map[string]any)["job"])

	failed := f.call(http.MethodGet, "/api/v1/quarantine/"+f.entries[2].ID, "", http.StatusOK)
	require.Equal(t, "failed_again", failed["status"])

	list := f.call(http.MethodGet, "/api/v1/quarantine?status=reprocessed", "", http.StatusOK)
	require.Len(t, list["items"], 2)
}

func TestReprocessBadRequests(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"not JSON", `{`, http.StatusBadRequest, "invalid_body"},
		{"unknown field", `{"filter": {"topik": "x"}}`, http.StatusBadRequest, "invalid_body"},
		{"two values", `{} {}`, http.StatusBadRequest, "invalid_body"},
		{"bad error type", `{"filter": {"error_type": "OOPS"}}`, http.StatusBadRequest, "invalid_parameter"},
		{"bad status", `{"filter": {"status": "reprocessed"}}`, http.StatusBadRequest, "invalid_parameter"},
		{"bad since", `{"filter": {"since": "yesterday"}}`, http.StatusBadRequest, "invalid_parameter"},
		{"since after until", `{"filter": {"since": "2026-11-04T00:00:00Z", "until": "2026-11-03T00:00:00Z"}}`, http.StatusBadRequest, "invalid_parameter"},
		{"bad target", `{"target": "elsewhere"}`, http.StatusBadRequest, "invalid_parameter"},
		{"bad dry-run target", `{"target": "elsewhere", "dry_run": true}`, http.StatusBadRequest, "invalid_parameter"},
		{"too large", `{"reason": "` + strings.Repeat("x", 1<<20) + `"}`, http.StatusRequestEntityTooLarge, "payload_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.code, f.errorCode(http.MethodPost, "/api/v1/reprocess", tc.body, tc.status))
		})
	}
	require.Equal(t, "not_found", f.errorCode(http.MethodGet, "/api/v1/reprocess/nope", "", http.StatusNotFound))
	require.Equal(t, "method_not_allowed", f.errorCode(http.MethodDelete, "/api/v1/reprocess", "", http.StatusMethodNotAllowed))
}

func TestReprocessOne(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)
	id := f.entries[1].ID
	got := f.call(http.MethodPost, "/api/v1/quarantine/"+id+"/reprocess", `{"reason": "just this one"}`, http.StatusAccepted)
	job := f.waitJob(got["job"].(string))
	require.Equal(t, []any{"done", 1.0, 1.0}, []any{job["state"], job["matched"], job["passed"]})
	require.Len(t, f.published(), 1)

	require.Equal(t, "conflict", f.errorCode(http.MethodPost, "/api/v1/quarantine/"+id+"/reprocess", "", http.StatusConflict))
	require.Equal(t, "not_found", f.errorCode(http.MethodPost, "/api/v1/quarantine/nope/reprocess", "", http.StatusNotFound))
	require.Equal(t, "invalid_parameter", f.errorCode(http.MethodPost, "/api/v1/quarantine/"+f.entries[0].ID+"/reprocess",
		`{"target": "nowhere"}`, http.StatusBadRequest))
}

func TestDiscardEndpoint(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)
	id := f.entries[2].ID
	got := f.call(http.MethodPost, "/api/v1/quarantine/"+id+"/discard", `{"reason": "test traffic"}`, http.StatusOK)
	require.Equal(t, map[string]any{"id": id, "status": "discarded"}, got)
	detail := f.call(http.MethodGet, "/api/v1/quarantine/"+id, "", http.StatusOK)
	require.Equal(t, "discarded", detail["status"])
	require.Equal(t, "test traffic", detail["status_reason"])
	require.Equal(t, "quarantine.discard", detail["history"].([]any)[0].(map[string]any)["action"])

	require.Equal(t, "conflict", f.errorCode(http.MethodPost, "/api/v1/quarantine/"+id+"/discard", "", http.StatusConflict))
	require.Equal(t, "not_found", f.errorCode(http.MethodPost, "/api/v1/quarantine/nope/discard", "", http.StatusNotFound))
	require.Equal(t, "invalid_body", f.errorCode(http.MethodPost, "/api/v1/quarantine/"+id+"/discard", `{"why": 1}`, http.StatusBadRequest))
}

func TestPayloadEndpoint(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)
	id := f.entries[2].ID // {} fails: no user_id
	target := "/api/v1/quarantine/" + id + "/payload"
	require.Equal(t, "payload_too_large", f.errorCode(http.MethodPut, target, strings.Repeat("x", 65), http.StatusRequestEntityTooLarge))
	require.Equal(t, "not_found", f.errorCode(http.MethodPut, "/api/v1/quarantine/nope/payload", "{}", http.StatusNotFound))

	detail := f.call(http.MethodPut, target+"?reason=added+the+id", `{"user_id":"fixed"}`, http.StatusOK)
	require.Equal(t, detail, f.call(http.MethodGet, "/api/v1/quarantine/"+id, "", http.StatusOK), "the updated record")
	require.Equal(t, true, detail["corrected"])
	require.Equal(t, `{"user_id":"fixed"}`, detail["corrected_payload"])
	require.Equal(t, "utf-8", detail["corrected_payload_encoding"])
	require.Equal(t, `{}`, detail["payload"], "the original is kept")
	ev := detail["history"].([]any)[0].(map[string]any)
	require.Equal(t, "quarantine.edit", ev["action"])
	require.Equal(t, "added the id", ev["reason"])

	job := f.call(http.MethodPost, "/api/v1/quarantine/"+id+"/reprocess", "", http.StatusAccepted)
	require.Equal(t, 1.0, f.waitJob(job["job"].(string))["passed"])
	got2 := f.published()
	require.Len(t, got2, 1)
	require.Equal(t, `{"user_id":"fixed"}`, string(got2[0].Value))
	require.Equal(t, "conflict", f.errorCode(http.MethodPut, target, "{}", http.StatusConflict))
}

func TestAuditEndpoint(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)
	for _, e := range f.entries[:3] {
		f.call(http.MethodPost, "/api/v1/quarantine/"+e.ID+"/discard", `{"reason": "r"}`, http.StatusOK)
	}
	all := f.call(http.MethodGet, "/api/v1/audit", "", http.StatusOK)
	require.Len(t, all["events"], 3)
	require.Nil(t, all["next_cursor"])
	first := all["events"].([]any)[0].(map[string]any)
	require.Equal(t, "quarantine/"+f.entries[2].ID, first["target"], "newest first")
	require.Equal(t, "alice", first["actor"])
	require.Equal(t, map[string]any{"from": "quarantined", "to": "discarded"}, first["details"])

	page := f.call(http.MethodGet, "/api/v1/audit?limit=2&action=quarantine.discard&actor=alice&target=quarantine/", "", http.StatusOK)
	require.Len(t, page["events"], 2)
	cursor := page["next_cursor"].(string)
	page = f.call(http.MethodGet, "/api/v1/audit?limit=2&cursor="+cursor, "", http.StatusOK)
	require.Len(t, page["events"], 1)
	require.Nil(t, page["next_cursor"])

	none := f.call(http.MethodGet, "/api/v1/audit?actor=bob", "", http.StatusOK)
	require.Equal(t, []any{}, none["events"])
	one := f.call(http.MethodGet, "/api/v1/audit?target=quarantine/"+f.entries[0].ID, "", http.StatusOK)
	require.Len(t, one["events"], 1)
	future := f.call(http.MethodGet, fmt.Sprintf("/api/v1/audit?since=%s", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), "", http.StatusOK)
	require.Equal(t, []any{}, future["events"])

	bad := []string{
		"limit=0", "limit=x", "since=soon", "cursor=nope", "actor=a&actor=b",
		"since=2026-11-04T00:00:00Z&until=2026-11-03T00:00:00Z",
	}
	for _, q := range bad {
		require.Equal(t, "invalid_parameter", f.errorCode(http.MethodGet, "/api/v1/audit?"+q, "", http.StatusBadRequest), q)
	}
}

func TestPrincipal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name, role := httpapi.ActorFrom(ctx)
	require.Equal(t, [2]string{httpapi.Anonymous, ""}, [2]string{name, role}, "auth off: anonymous, no role")
	name, role = httpapi.ActorFrom(httpapi.WithPrincipal(ctx, httpapi.Principal{Name: "ci", Role: "admin"}))
	require.Equal(t, [2]string{"ci", "admin"}, [2]string{name, role})
	name, role = httpapi.ActorFrom(httpapi.WithPrincipal(ctx, httpapi.Principal{}))
	require.Equal(t, [2]string{httpapi.Anonymous, ""}, [2]string{name, role})
}

// TestListJobs: GET /api/v1/reprocess lists the jobs newest first, with
// who started them, why, when they ended and how long they took; filtered
// by state and paged.
func TestListJobs(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)
	empty := f.call(http.MethodGet, "/api/v1/reprocess", "", http.StatusOK)
	require.Equal(t, map[string]any{"jobs": []any{}, "next_cursor": nil}, empty)

	var ids []string
	for i, body := range []string{
		`{"filter": {"ids": ["` + f.entries[0].ID + `"]}, "reason": "schema v2"}`,
		`{"filter": {"ids": ["` + f.entries[2].ID + `"]}, "reason": "retry", "target": "raw"}`,
		`{"filter": {"ids": ["` + f.entries[1].ID + `"]}}`,
	} {
		started := f.call(http.MethodPost, "/api/v1/reprocess", body, http.StatusAccepted)
		ids = append(ids, started["job"].(string))
		f.waitJob(ids[i])
	}

	all := f.call(http.MethodGet, "/api/v1/reprocess", "", http.StatusOK)
	jobs := all["jobs"].([]any)
	require.Len(t, jobs, 3)
	require.Nil(t, all["next_cursor"])
	var got []string
	for _, j := range jobs {
		got = append(got, j.(map[string]any)["job"].(string))
	}
	require.Equal(t, []string{ids[2], ids[1], ids[0]}, got, "newest first")
	first := jobs[2].(map[string]any)
	require.Equal(t, "alice", first["actor"])
	require.Equal(t, "operator", first["role"])
	require.Equal(t, "schema v2", first["reason"], "the reason apart from the actor")
	require.Equal(t, "done", first["state"])
	require.Equal(t, 1.0, first["passed"])
	created, err := time.Parse(time.RFC3339Nano, first["created_at"].(string))
	require.NoError(t, err)
	finished, err := time.Parse(time.RFC3339Nano, first["finished_at"].(string))
	require.NoError(t, err)
	require.False(t, finished.Before(created))
	require.InDelta(t, finished.Sub(created).Seconds(), first["duration_seconds"], 1e-6)
	require.Equal(t, map[string]any{"ids": []any{f.entries[0].ID}}, first["filter"])
	require.Equal(t, "raw", jobs[1].(map[string]any)["target"])

	// Paged: one a page, following next_cursor.
	var paged []string
	target := "/api/v1/reprocess?limit=1"
	for {
		page := f.call(http.MethodGet, target, "", http.StatusOK)
		for _, j := range page["jobs"].([]any) {
			paged = append(paged, j.(map[string]any)["job"].(string))
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			break
		}
		target = "/api/v1/reprocess?limit=1&cursor=" + url.QueryEscape(next)
	}
	require.Equal(t, got, paged)

	require.Len(t, f.call(http.MethodGet, "/api/v1/reprocess?state=done", "", http.StatusOK)["jobs"], 3)
	require.Empty(t, f.call(http.MethodGet, "/api/v1/reprocess?state=running", "", http.StatusOK)["jobs"])
	for _, bad := range []string{"?state=finished", "?limit=0", "?limit=501", "?limit=x", "?cursor=nope", "?state=done&state=failed"} {
		require.Equal(t, "invalid_parameter", f.errorCode(http.MethodGet, "/api/v1/reprocess"+bad, "", http.StatusBadRequest), bad)
	}
}

// TestValidatePayload: a payload is checked for a record against the
// current schema, every violation listed, and nothing changes.
func TestValidatePayload(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)
	id := f.entries[2].ID // {} : user_id missing
	target := "/api/v1/quarantine/" + id + "/validate"

	got := f.call(http.MethodPost, target, `{"x":1}`, http.StatusOK)
	require.Equal(t, false, got["valid"])
	require.Equal(t, "ev", got["subject"])
	require.Equal(t, 1.0, got["version"])
	errs := got["errors"].([]any)
	require.Len(t, errs, 1)
	require.Equal(t, "MISSING_FIELD", errs[0].(map[string]any)["type"])

	got = f.call(http.MethodPost, target, `{"user_id":"u1"}`, http.StatusOK)
	require.Equal(t, map[string]any{"valid": true, "subject": "ev", "version": 1.0, "errors": []any{}}, got)
	got = f.call(http.MethodPost, target, `{"user_id":`, http.StatusOK)
	require.Equal(t, "PARSE_ERROR", got["errors"].([]any)[0].(map[string]any)["type"])

	require.Equal(t, "not_found", f.errorCode(http.MethodPost, "/api/v1/quarantine/nope/validate", `{}`, http.StatusNotFound))
	require.Equal(t, "payload_too_large", f.errorCode(http.MethodPost, target, strings.Repeat(" ", 65), http.StatusRequestEntityTooLarge))

	// A check is no change: the record and the audit log are as they were.
	rec := f.call(http.MethodGet, "/api/v1/quarantine/"+id, "", http.StatusOK)
	require.Equal(t, "quarantined", rec["status"])
	require.Nil(t, rec["corrected_payload"])
	require.Empty(t, f.call(http.MethodGet, "/api/v1/audit", "", http.StatusOK)["events"])
}
