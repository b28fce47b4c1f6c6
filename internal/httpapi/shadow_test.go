package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

// fakeShadow answers from a real Tally for subject "orders", whose version
// 2 is in shadow and 3 registered; Promote applies the guard as the
// gateway does and records what it was asked.
type fakeShadow struct {
	tally    *shadow.Tally
	promoted []int
	guard    shadow.Guard
}

func (f *fakeShadow) ShadowReport(_ context.Context, subject string, window time.Duration) (shadow.SubjectReport, error) {
	if subject != "orders" {
		return shadow.SubjectReport{}, fmt.Errorf("%w: subject %q", shadow.ErrNotFound, subject)
	}
	return shadow.SubjectReport{
		Subject: subject, Enforced: 1, Sample: 1, Window: window,
		Versions: f.tally.Report(subject, window), Registered: []int{3},
	}, nil
}

func (f *fakeShadow) Promote(_ context.Context, subject string, version int, g shadow.Guard) (shadow.Report, error) {
	f.guard = g
	switch {
	case subject != "orders":
		return shadow.Report{}, fmt.Errorf("%w: subject %q", shadow.ErrNotFound, subject)
	case version != 2:
		return shadow.Report{}, fmt.Errorf("%w: version %d of orders is registered", shadow.ErrWrongState, version)
	}
	r := f.tally.Report(subject, g.Window)[0]
	if err := g.Check(r); err != nil {
		return r, err
	}
	f.promoted = append(f.promoted, version)
	return r, nil
}

// SetShadow is the browser's control; the API has no route to it.
func (f *fakeShadow) SetShadow(context.Context, string, int, bool) error {
	return errors.New("the API does not start or stop shadows")
}

func shadowServer(t *testing.T) (*httptest.Server, *fakeShadow) {
	t.Helper()
	tally, err := shadow.New(shadow.Options{Sample: 1})
	require.NoError(t, err)
	var obs []shadow.Observed
	for i := range int64(100) {
		var v2 []record.Violation
		if i%10 == 0 {
			v2 = []record.Violation{{Type: record.MissingField, Field: "/sku", Keyword: "required", Message: "missing property 'sku'"}}
		}
		value := []byte(fmt.Sprintf(`{"id":%d}`, i))
		if i == 90 {
			value = []byte{0xff, 0xfe} // not UTF-8: base64
		}
		obs = append(obs, shadow.Observed{
			Topic: "raw-orders", Partition: 0, Offset: i, Key: []byte("k"), Value: value, Timestamp: time.Unix(1700000000, 0),
			Verdict: &record.Verdict{Subject: "orders", Version: 1, Shadow: []record.ShadowVerdict{{Subject: "orders", Version: 2, Violations: v2}}},
		})
	}
	tally.Record(obs)
	f := &fakeShadow{tally: tally}
	return apiServer(t, httpapi.Options{Shadow: f}), f
}

func apiServer(t *testing.T, opts httpapi.Options) *httptest.Server {
	t.Helper()
	opts.Quarantine, opts.Payloads, opts.Stats = emptyReader{}, emptyReader{}, noStats{}
	h, err := httpapi.New(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func shadowCall(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), string(b))
	return resp.StatusCode, out
}

func TestShadowReportEndpoint(t *testing.T) {
	t.Parallel()
	srv, _ := shadowServer(t)
	status, body := shadowCall(t, http.MethodGet, srv.URL+"/api/v1/schemas/orders/shadow?window=15m", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "15m", body["window"])
	require.EqualValues(t, 900, body["window_seconds"])
	require.EqualValues(t, 1, body["enforced_version"])
	require.Equal(t, []any{3.0}, body["registered_versions"])
	v := body["versions"].([]any)[0].(map[string]any)
	require.EqualValues(t, 2, v["version"])
	recent := v["recent"].(map[string]any)
	require.EqualValues(t, 100, recent["seen"])
	require.EqualValues(t, 90, recent["agree_pass"])
	require.EqualValues(t, 10, recent["newly_rejected"])
	require.InDelta(t, 0.1, recent["newly_rejected_share"], 1e-9)
	require.Equal(t, []any{map[string]any{"error_type": "MISSING_FIELD", "field": "/sku", "records": 10.0}}, recent["newly_rejected_by"])
	samples := v["samples"].(map[string]any)
	require.Empty(t, samples["agree_fail"])
	rej := samples["newly_rejected"].([]any)
	require.Len(t, rej, 10)
	first := rej[0].(map[string]any)
	require.EqualValues(t, 90, first["offset"], "newest first")
	require.Equal(t, "base64", first["value_encoding"])
	require.Equal(t, "//4=", first["value"])
	require.Equal(t, record.ID("raw-orders", 0, 90), first["id"])
	require.Equal(t, false, first["stored"])
	require.Len(t, first["candidate_errors"], 1)
	require.Empty(t, first["enforced_errors"])

	status, body = shadowCall(t, http.MethodGet, srv.URL+"/api/v1/schemas/orders/shadow", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "1h", body["window"], "the default window")

	for _, w := range []string{"30s", "2h", "90s", "soon"} {
		status, body = shadowCall(t, http.MethodGet, srv.URL+"/api/v1/schemas/orders/shadow?window="+w, "")
		require.Equal(t, http.StatusBadRequest, status, w)
		require.Contains(t, body["error"].(map[string]any)["message"], "invalid window")
	}
	status, _ = shadowCall(t, http.MethodGet, srv.URL+"/api/v1/schemas/nope/shadow", "")
	require.Equal(t, http.StatusNotFound, status)
}

func TestPromoteEndpoint(t *testing.T) {
	t.Parallel()
	srv, f := shadowServer(t)
	url := srv.URL + "/api/v1/schemas/orders/versions/2/promote"

	status, body := shadowCall(t, http.MethodPost, url, `{"max_newly_rejected": 0.05}`)
	require.Equal(t, http.StatusConflict, status)
	e := body["error"].(map[string]any)
	require.Equal(t, "promotion_refused", e["code"])
	require.Equal(t, "version 2 of orders would newly reject 10% of records (10 of 100 evaluated in the last 1h), above the 5% allowed; top: MISSING_FIELD at /sku (10 records)", e["message"])
	fig := body["figures"].(map[string]any)
	require.EqualValues(t, 100, fig["seen"])
	require.EqualValues(t, 10, fig["newly_rejected"])
	require.InDelta(t, 0.05, fig["max_newly_rejected"], 1e-12)
	require.Empty(t, f.promoted)

	status, _ = shadowCall(t, http.MethodPost, url, ``)
	require.Equal(t, http.StatusConflict, status, "no body: a zero share allowed")
	require.Zero(t, f.guard.MaxNewlyRejected)
	require.Equal(t, time.Hour, f.guard.Window)

	status, body = shadowCall(t, http.MethodPost, url, `{"max_newly_rejected": 0.1, "window": "30m"}`)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "enforced", body["state"])
	require.Equal(t, "30m", body["window"])
	require.Equal(t, []int{2}, f.promoted)

	for _, tc := range []struct {
		url, body string
		status    int
		code      string
	}{
		{url, `{"max_newly_rejected": 1.5}`, http.StatusBadRequest, "invalid_parameter"},
		{url, `{"max_newly_rejected": -0.01}`, http.StatusBadRequest, "invalid_parameter"},
		{url, `{"window": "3h"}`, http.StatusBadRequest, "invalid_parameter"},
		{url, `{"max_newly_rejected": "1%"}`, http.StatusBadRequest, "invalid_body"},
		{url, `{"max_rejected": 0.1}`, http.StatusBadRequest, "invalid_body"},
		{url, `{`, http.StatusBadRequest, "invalid_body"},
		{srv.URL + "/api/v1/schemas/orders/versions/latest/promote", `{}`, http.StatusBadRequest, "invalid_parameter"},
		{srv.URL + "/api/v1/schemas/orders/versions/0/promote", `{}`, http.StatusBadRequest, "invalid_parameter"},
		{srv.URL + "/api/v1/schemas/orders/versions/3/promote", `{}`, http.StatusConflict, "conflict"},
		{srv.URL + "/api/v1/schemas/nope/versions/2/promote", `{}`, http.StatusNotFound, "not_found"},
	} {
		status, body := shadowCall(t, http.MethodPost, tc.url, tc.body)
		require.Equal(t, tc.status, status, "%s %s", tc.url, tc.body)
		require.Equal(t, tc.code, body["error"].(map[string]any)["code"], "%s %s", tc.url, tc.body)
	}
	require.Equal(t, []int{2}, f.promoted)
}

func TestShadowEndpointsWithoutShadow(t *testing.T) {
	t.Parallel()
	srv := apiServer(t, httpapi.Options{})
	status, _ := shadowCall(t, http.MethodGet, srv.URL+"/api/v1/schemas/orders/shadow", "")
	require.Equal(t, http.StatusNotFound, status)
	status, _ = shadowCall(t, http.MethodPost, srv.URL+"/api/v1/schemas/orders/versions/2/promote", "{}")
	require.Equal(t, http.StatusNotFound, status)
}

// emptyReader is a quarantine with nothing in it.
type emptyReader struct{}

func (emptyReader) Get(context.Context, string) (quarantine.Entry, error) {
	return quarantine.Entry{}, quarantine.ErrNotFound
}

func (emptyReader) List(context.Context, quarantine.Filter) (quarantine.Page, error) {
	return quarantine.Page{}, nil
}

func (emptyReader) Count(context.Context, quarantine.Filter) (int64, error) { return 0, nil }

func (emptyReader) Read(context.Context, quarantine.PayloadRef) (quarantine.Payload, error) {
	return quarantine.Payload{}, quarantine.ErrNotFound
}

func (emptyReader) Preview(context.Context, quarantine.PayloadRef, int) (quarantine.Preview, error) {
	return quarantine.Preview{}, quarantine.ErrNotFound
}
