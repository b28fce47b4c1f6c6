package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDiscardMatching(t *testing.T) {
	t.Parallel()
	f := newRPFixture(t)
	const path = "/api/v1/quarantine/discard"

	dry := f.call(http.MethodPost, path, `{"filter": {"ids": ["`+f.entries[0].ID+`", "`+f.entries[1].ID+`", "nope"]}, "dry_run": true}`, http.StatusOK)
	require.Equal(t, map[string]any{"matched": 2.0, "discarded": 0.0, "skipped": 0.0, "more": false}, dry)
	require.Equal(t, "quarantined", f.call(http.MethodGet, "/api/v1/quarantine/"+f.entries[0].ID, "", http.StatusOK)["status"], "a dry run changes nothing")

	require.Equal(t, "invalid_parameter", f.errorCode(http.MethodPost, path, `{"filter": {}}`, http.StatusBadRequest), "no reason")
	require.Equal(t, "invalid_parameter", f.errorCode(http.MethodPost, path, `{"filter": {"status": "discarded"}, "reason": "x"}`, http.StatusBadRequest))
	require.Equal(t, "invalid_body", f.errorCode(http.MethodPost, path, `{"filter": {"topik": "x"}, "reason": "x"}`, http.StatusBadRequest))

	got := f.call(http.MethodPost, path, `{"filter": {"ids": ["`+f.entries[0].ID+`", "`+f.entries[1].ID+`"]}, "reason": "duplicates of a replay"}`, http.StatusOK)
	require.Equal(t, map[string]any{"matched": 2.0, "discarded": 2.0, "skipped": 0.0, "more": false}, got)
	for _, e := range f.entries[:2] {
		d := f.call(http.MethodGet, "/api/v1/quarantine/"+e.ID, "", http.StatusOK)
		require.Equal(t, "discarded", d["status"])
		require.Equal(t, "alice", d["status_actor"])
		require.Equal(t, "duplicates of a replay", d["status_reason"])
	}
	// The rest, by filter.
	got = f.call(http.MethodPost, path, `{"filter": {"topic": "raw-events"}, "reason": "all of it"}`, http.StatusOK)
	require.Equal(t, 2.0, got["discarded"])
	audit := f.call(http.MethodGet, "/api/v1/audit?action=quarantine.discard", "", http.StatusOK)
	events, _ := json.Marshal(audit["events"])
	require.Equal(t, 4, strings.Count(string(events), `"action":"quarantine.discard"`), "each record is audited")
}

func TestListTotal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var resp struct {
		Items []json.RawMessage `json:"items"`
		Total *int64            `json:"total"`
	}
	require.NoError(t, json.Unmarshal([]byte(f.get("/api/v1/quarantine?limit=2&total=true", http.StatusOK).body), &resp))
	require.Len(t, resp.Items, 2)
	require.NotNil(t, resp.Total)
	require.Equal(t, int64(5), *resp.Total, "all that match, not the page")
	require.NoError(t, json.Unmarshal([]byte(f.get("/api/v1/quarantine?status=reprocessed&total=1", http.StatusOK).body), &resp))
	require.Equal(t, int64(1), *resp.Total)
	require.NotContains(t, f.get("/api/v1/quarantine", http.StatusOK).body, "total")
	require.NotContains(t, f.get("/api/v1/quarantine?q=amount&total=true", http.StatusOK).body, `"total"`, "a search is not counted")
	require.Contains(t, f.get("/api/v1/quarantine?total=maybe", http.StatusBadRequest).body, "invalid total")
}
